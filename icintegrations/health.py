"""Probes and metrics for load balancers, orchestrators and Prometheus.

- `/healthz`: liveness. 200 as long as the process answers; touches nothing.
- `/readyz`: readiness. 200 when the database and django-q2's broker (Redis
  when ICI_REDIS_URL is set, else the ORM broker's table) answer; otherwise 503
  `{"code": "not_ready", ..., "extra": {"failed": [...]}}` naming which.
- `/metrics`: the Prometheus text format, only with `Authorization: Bearer
  <ICI_METRICS_TOKEN>`; 404 while that setting is empty (the endpoint is off).

None of them is a DRF view: no API client, no throttle, no session.
"""

import datetime
import hmac
import logging
import os
from collections.abc import Iterator

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from billers.models import Partner
from icintegrations.errors import ErrorCode
from invoicefiles.selectors import invoice_files_overdue, invoice_files_unfinished
from payments.selectors import (
    billers_held_by_partner,
    breakers_open,
    deliveries_by_status,
    deliveries_overdue,
)

logger = logging.getLogger("icintegrations.health")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "alive"})


# --- readiness ------------------------------------------------------------------


def database_check() -> None:
    """Raises unless the default database answers a query."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def broker_check() -> None:
    """Raises unless django-q2's broker answers: Redis's PING, or a read of the
    ORM broker's table (the ORM broker's own ping answers True without a look)."""
    q_cluster = settings.Q_CLUSTER
    if q_cluster.get("redis"):
        import redis

        timeout = settings.ICI_READYZ_TIMEOUT
        client = redis.Redis.from_url(
            q_cluster["redis"], socket_connect_timeout=timeout, socket_timeout=timeout
        )
        try:
            client.ping()
        finally:
            client.close()
        return
    from django_q.models import OrmQ

    OrmQ.objects.using(q_cluster.get("orm", "default")).exists()


CHECKS = {"database": database_check, "broker": broker_check}


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    failed = []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as e:  # any failure is "not ready"; its text stays in the log
            logger.warning("readyz: the %s does not answer: %s", name, type(e).__name__)
            failed.append(name)
    if failed:
        return JsonResponse(
            {
                "code": ErrorCode.NOT_READY,
                "message": f"Not ready: the {' and the '.join(failed)} did not answer.",
                "extra": {"failed": failed},
            },
            status=503,
        )
    return JsonResponse({"status": "ready", "checks": dict.fromkeys(CHECKS, "ok")})


# --- metrics ----------------------------------------------------------------------


class DatabaseCollector(Collector):
    """The figures that describe the database, read from it at every scrape, so
    every process answers the same."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        deliveries = GaugeMetricFamily(
            "ici_deliveries", "Deliveries (payments and reversals) by status.", labels=["status"]
        )
        for status, count in deliveries_by_status().items():
            deliveries.add_metric([status], count)
        yield deliveries

        due = deliveries_overdue(now=now, late=datetime.timedelta(0))
        yield GaugeMetricFamily(
            "ici_deliveries_due", "Deliveries a worker may take now.", value=due.count
        )
        age = (now - due.since).total_seconds() if due.since is not None else 0.0
        yield GaugeMetricFamily(
            "ici_delivery_oldest_due_age_seconds",
            "Seconds since the oldest due delivery came due (0 when none is due).",
            value=max(age, 0.0),
        )

        open_now = set(breakers_open(now=now))
        breakers = GaugeMetricFamily(
            "ici_breaker_open", "1 while the partner's circuit breaker is open.", labels=["partner"]
        )
        held = billers_held_by_partner()
        billers = GaugeMetricFamily(
            "ici_billers_held",
            "Billers whose deliveries are held: the partner refused their credentials.",
            labels=["partner"],
        )
        for partner in sorted(set(Partner.values) | open_now | held.keys()):
            breakers.add_metric([partner], 1 if partner in open_now else 0)
            billers.add_metric([partner], held.get(partner, 0))
        yield breakers
        yield billers

        files = GaugeMetricFamily(
            "ici_invoice_files_waiting",
            "Invoice files not finished yet, by status (queued, processing).",
            labels=["status"],
        )
        for status, count in invoice_files_unfinished().items():
            files.add_metric([status], count)
        yield files
        yield GaugeMetricFamily(
            "ici_invoice_files_overdue",
            "Invoice files whose task is overdue (lost, or its worker died): the sweep "
            "takes them again.",
            value=invoice_files_overdue(now=now, late=datetime.timedelta(0)),
        )


def metrics_registry() -> CollectorRegistry:
    """What /metrics answers: this process's counts (or, with
    PROMETHEUS_MULTIPROC_DIR, every process's of this machine) and the database's."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)  # a registry is a collector too
    registry.register(DatabaseCollector())
    return registry


def _refused(code: str, message: str, status: int) -> JsonResponse:
    response = JsonResponse({"code": code, "message": message, "extra": {}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.ICI_METRICS_TOKEN
    if not token:
        return _refused(ErrorCode.NOT_FOUND, "Metrics are off (ICI_METRICS_TOKEN is empty).", 404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return _refused(ErrorCode.NOT_AUTHENTICATED, "Send Authorization: Bearer <token>.", 401)
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _refused(ErrorCode.AUTHENTICATION_FAILED, "Wrong metrics token.", 401)
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
