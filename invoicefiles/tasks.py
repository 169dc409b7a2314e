"""django-q2 tasks: thin, the service does the work."""

from invoicefiles.services.processing import invoice_file_process
from invoicefiles.services.uploads import invoice_files_sweep


def invoice_file_process_task(file_id: str) -> None:
    invoice_file_process(file_id=file_id)


def sweep_task() -> int:
    return invoice_files_sweep()
