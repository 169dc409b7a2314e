"""django-q2 entry points of the Data Pump: thin callers of the services."""

from icintegrations.middleware import request_id_bound
from payments.services.delivery import RunResult, deliveries_sweep, delivery_run


def delivery_run_task(delivery_id: int, request_id: str | None = None) -> RunResult:
    """`request_id`: the request that enqueued it, for the worker's log lines."""
    with request_id_bound(request_id):
        return delivery_run(delivery_id)


def sweep_task() -> int:
    return deliveries_sweep()
