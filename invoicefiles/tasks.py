"""django-q2 tasks: thin, the service does the work."""

import logging

from invoicefiles.services.processing import invoice_file_process
from invoicefiles.services.retention import invoice_files_orphans_remove, invoice_files_prune
from invoicefiles.services.uploads import invoice_files_sweep

logger = logging.getLogger(__name__)


def invoice_file_process_task(file_id: str) -> None:
    invoice_file_process(file_id=file_id)


def sweep_task() -> dict:
    counts = {
        "enqueued": invoice_files_sweep(),
        "pruned": invoice_files_prune(),
        "orphans": invoice_files_orphans_remove(),
    }
    logger.info("Invoice file sweep: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts
