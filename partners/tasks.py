"""django-q2 entry points of the partners app: thin callers of the services."""

from partners.services.retention import partner_calls_prune


def prune_task() -> int:
    return partner_calls_prune()
