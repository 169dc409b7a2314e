"""django-q2 entry points of the Data Pump: thin callers of the services."""

from payments.services.delivery import RunResult, deliveries_sweep, delivery_run


def delivery_run_task(delivery_id: int) -> RunResult:
    return delivery_run(delivery_id)


def sweep_task() -> int:
    return deliveries_sweep()
