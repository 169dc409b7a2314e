"""django-q2 tasks: thin, the service does the work."""

from invoicefiles.services.processing import invoice_file_process
from invoicefiles.services.retention import invoice_files_prune
from invoicefiles.services.uploads import invoice_files_sweep


def invoice_file_process_task(file_id: str) -> None:
    invoice_file_process(file_id=file_id)


def sweep_task() -> dict:
    return {"enqueued": invoice_files_sweep(), "pruned": invoice_files_prune()}
