"""Payments received from the payer site. Their delivery to the partner (the
outbox, attempts, reversals) is built on top of these rows."""

from decimal import Decimal

from django.db import models

from billers.models import Biller, Invoice


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending delivery"
    POSTED = "posted", "Posted to the partner"
    REJECTED = "rejected", "Rejected by the partner"
    REVIEW = "review", "Waiting for review"
    FAILED = "failed", "Failed"


class Payment(models.Model):
    payment_guid = models.UUIDField("payment GUID", unique=True)
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT, related_name="payments")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    invoice_number = models.CharField(max_length=100)
    account_number = models.CharField(max_length=100)
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Paid to the biller, without the service fee."
    )
    service_fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    payment_source = models.CharField(
        max_length=32, help_text="The provider's source code, e.g. 'Web CC' or 'IVR Eck'."
    )
    approval_code = models.CharField(max_length=100, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    paid_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    receipt_number = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["biller", "-created_at", "-id"], name="payment_biller_recent"),
            models.Index(fields=["biller", "status"], name="payment_biller_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(service_fee__gte=0), name="payment_fee_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.payment_guid} {self.amount} ({self.status})"
