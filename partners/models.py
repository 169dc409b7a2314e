"""Records of the hub's real-time partner calls."""

from django.db import models

from billers.models import Biller


class PartnerCallOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    REJECTED = "rejected", "Rejected by the partner"
    NOT_SENT = "not_sent", "Not sent"
    UNKNOWN = "unknown", "Unknown (sent, no usable answer)"


class PartnerCall(models.Model):
    """One RTDR or bill call to a partner, redacted: what Solutions Engineers
    read when a lookup fails (a refused credential, a partner down)."""

    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="partner_calls")
    partner = models.CharField(max_length=32)
    operation = models.CharField(max_length=32)
    invoice_number = models.CharField(max_length=100)
    outcome = models.CharField(max_length=16, choices=PartnerCallOutcome.choices)
    error_code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    exchange = models.JSONField(null=True, blank=True, help_text="Request and answer, redacted.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["biller", "-created_at"], name="partnercall_biller_recent"),
            models.Index(fields=["outcome", "-created_at"], name="partnercall_outcome_recent"),
        ]

    def __str__(self):
        return f"{self.partner} {self.operation} {self.invoice_number}: {self.outcome}"


class RtdrFlight(models.Model):
    """The partner call in flight for one invoice, so that concurrent lookups of
    the same invoice make one partner call (across processes and machines): the
    first takes the row, the others wait for `finished_at` and read its result."""

    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="+")
    invoice_number = models.CharField(max_length=100)
    token = models.UUIDField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["biller", "invoice_number"], name="uniq_rtdr_flight_invoice"
            ),
        ]

    def __str__(self):
        return f"{self.invoice_number} since {self.started_at:%H:%M:%S}"
