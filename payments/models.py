"""Payments received from the payer site, and the Data Pump that delivers them.

A Payment and its Delivery (the outbox row) are written in one transaction; the
Delivery row is the truth about where a payment stands with the partner, and the
django-q2 task only a trigger. Every partner call a delivery makes is a
DeliveryAttempt row. See ARCHITECTURE.md, decisions 3 and 4.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models.functions import Upper

from billers.models import Biller, Invoice


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending delivery"
    POSTED = "posted", "Posted to the partner"
    REJECTED = "rejected", "Rejected by the partner"
    REVIEW = "review", "Waiting for review"
    FAILED = "failed", "Failed"
    REVERSED = "reversed", "Reversed before it was sent (never delivered)"


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    BANK = "bank", "Bank (ACH)"


class PrefixSearchIndex(models.Index):
    """An index for case-insensitive prefix searches (`__istartswith`, which is
    `UPPER(col) LIKE 'X%'` on PostgreSQL): its UPPER() expressions get
    `text_pattern_ops` on PostgreSQL, so that LIKE can use the index whatever the
    database's collation; elsewhere a plain expression index. (OpClass is an
    index wrapper only with django.contrib.postgres installed, and SQLite has no
    operator classes, hence the choice here rather than in the definition.)"""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        index = self
        if schema_editor.connection.vendor == "postgresql":
            # django-stubs: clone() returns Index; Django returns self.__class__(...).
            index = self.clone()  # type: ignore[assignment]
            index.expressions = tuple(
                OpClass(e, name="text_pattern_ops") if isinstance(e, Upper) else e
                for e in self.expressions
            )
        return super(PrefixSearchIndex, index).create_sql(model, schema_editor, using, **kwargs)


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
    method = models.CharField(
        max_length=8,
        choices=PaymentMethod.choices,
        help_text="Card or bank, from the biller's settings 64 and 65.",
    )
    approval_code = models.CharField(max_length=100, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    paid_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    receipt_number = models.CharField(max_length=100, blank=True)
    request_fingerprint = models.CharField(
        max_length=64,
        editable=False,
        help_text="SHA-256 of the request as accepted: the same GUID with another body is a 409.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["biller", "-created_at", "-id"], name="payment_biller_recent"),
            # The portal's activity chart: counts and sums by the day paid and
            # status read from the index alone (index-only scans), not the table.
            models.Index(
                fields=["biller", "paid_at", "status", "amount"],
                name="payment_biller_paid_activity",
            ),
            # The portal's payment history (portal/selectors/history.py):
            # one index per keyset order (scanned either way), the status filter
            # in the default order, and the exact and prefix searches.
            models.Index(fields=["biller", "paid_at", "id"], name="payment_biller_paid"),
            models.Index(fields=["biller", "amount", "id"], name="payment_biller_amount"),
            models.Index(
                fields=["biller", "status", "paid_at", "id"], name="payment_biller_status_paid"
            ),
            models.Index(fields=["biller", "invoice_number"], name="payment_biller_invoice"),
            models.Index(fields=["biller", "account_number"], name="payment_biller_account"),
            PrefixSearchIndex(models.F("biller"), Upper("payer_name"), name="payment_biller_payer"),
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


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending (waiting for its next attempt)"
    IN_FLIGHT = "in_flight", "In flight"
    RECONCILING = "reconciling", "Outcome unknown: reading the partner back"
    POSTED = "posted", "Posted"
    REJECTED = "rejected", "Rejected by the partner (final)"
    REVIEW = "review", "Review: a person decides"
    DEAD = "dead", "Dead letter: retries exhausted"
    CANCELLED = "cancelled", "Cancelled: the payment was reversed before it was sent"


# Deliveries a worker may still act on; the others wait for a person or are done.
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT, DeliveryStatus.RECONCILING)
# At most one delivery per invoice may be in these at a time, so that reading the
# invoice back tells whose payment changed it.
BUSY_STATUSES = (DeliveryStatus.IN_FLIGHT, DeliveryStatus.RECONCILING)


class DeliveryKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    REVERSAL = "reversal", "Reversal"


class Delivery(models.Model):
    """The outbox row of one payment (or reversal) to one partner."""

    kind = models.CharField(max_length=16, choices=DeliveryKind.choices)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="deliveries")
    reversal = models.OneToOneField(
        "Reversal", on_delete=models.PROTECT, null=True, blank=True, related_name="delivery"
    )
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT, related_name="+")
    partner = models.CharField(max_length=32, db_index=True)
    invoice_number = models.CharField(max_length=100)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Posts made (read-backs apart).")
    reads = models.PositiveIntegerField(default=0, help_text="Read-backs made while reconciling.")
    next_attempt_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a task was last enqueued for it; the sweep enqueues it again only "
        "when no task is waiting or the task is long overdue (lost with its worker).",
    )
    lease_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    snapshot = models.JSONField(
        null=True,
        blank=True,
        help_text="The partner's figure for the invoice before the last post "
        "(balance due or paid amount), to reconcile an unknown outcome.",
    )
    last_error = models.CharField(max_length=500, blank=True)
    held = models.BooleanField(
        default=False,
        help_text="Held for the biller's credentials (the partner answered 401/403): not "
        "due until the hold lifts (CredentialHold). Not counted as an attempt.",
    )
    request_id = models.CharField(
        max_length=128,
        null=True,
        blank=True,
        help_text="The id of the API request that took the payment (or the reversal): every "
        "task of this delivery, retries included, logs under it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["biller", "invoice_number"], name="delivery_invoice"),
            # The few deliveries held for their biller's credentials (CredentialHold).
            models.Index(fields=["biller"], condition=models.Q(held=True), name="delivery_held"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["biller", "invoice_number"],
                condition=models.Q(status__in=BUSY_STATUSES),
                name="delivery_one_busy_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["payment"],
                condition=models.Q(kind=DeliveryKind.PAYMENT),
                name="delivery_one_per_payment",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.payment.payment_guid} to {self.partner}: {self.status}"


class AttemptKind(models.TextChoices):
    POST = "post", "Post"
    SNAPSHOT = "snapshot", "Read before the post"
    READ_BACK = "read_back", "Read back (reconciliation)"


class AttemptOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    REJECTED = "rejected", "Rejected"
    NOT_SENT = "not_sent", "Not sent"
    UNKNOWN = "unknown", "Unknown"


class DeliveryAttempt(models.Model):
    """One partner call of a delivery, written before the call (outcome empty) and
    completed after it: a worker killed mid-call leaves an attempt without an
    outcome, which the sweep treats as unknown."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    kind = models.CharField(max_length=16, choices=AttemptKind.choices)
    started_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    receipt_number = models.CharField(max_length=100, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)
    exchange = models.JSONField(null=True, blank=True, help_text="Request and answer, redacted.")

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [
            # The operations page reads a window of attempts; they are kept for good.
            models.Index(fields=["started_at"], name="deliveryattempt_started"),
        ]

    def __str__(self):
        return f"{self.kind} at {self.started_at:%Y-%m-%d %H:%M:%S}: {self.outcome or 'running'}"


class ReversalKind(models.TextChoices):
    VOID = "void", "Void"
    ACH_RETURN = "ach_return", "ACH return"


class ReversalStatus(models.TextChoices):
    PENDING = "pending", "Pending delivery to the partner"
    DELIVERED = "delivered", "Applied by the partner"
    TO_APPLY = "to_apply", "To apply in your system"
    APPLIED = "applied", "Applied by the biller"
    NOT_NEEDED = "not_needed", "Nothing to apply: the partner never took the payment"


class Reversal(models.Model):
    """A void or an ACH return of a payment: delivered through the connector where
    the partner has a reversal call, otherwise listed for the biller to apply."""

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="reversal")
    kind = models.CharField(max_length=16, choices=ReversalKind.choices)
    return_code = models.CharField(max_length=3, blank=True, help_text="NACHA code, e.g. R01.")
    reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=ReversalStatus.choices)
    request_fingerprint = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Not a column: the note of whoever applied it, set by the portal on the
    # reversals its "to apply" page lists (portal.selectors.reversals).
    portal_note: str

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        code = f" {self.return_code}" if self.return_code else ""
        return f"{self.get_kind_display()}{code} of {self.payment.payment_guid}: {self.status}"


class CircuitBreaker(models.Model):
    """One partner's breaker, shared by every worker on every machine: after
    `failures` calls in a row that did not reach it, the partner is left alone
    until `open_until`, then one call at a time probes it."""

    partner = models.CharField(max_length=32, primary_key=True)
    failures = models.PositiveIntegerField(default=0)
    opened_count = models.PositiveIntegerField(default=0, help_text="Openings in a row.")
    open_until = models.DateTimeField(null=True, blank=True)
    last_failure = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.partner} breaker"


class CredentialHold(models.Model):
    """A biller whose partner refused its credentials (401/403): its deliveries
    are held (Delivery.held), untried and not counted as attempts, until the
    hold lifts: a setting of the biller saved, an operator's "Retry now", or a
    probe (one delivery, every ICI_PUMP_AUTH_RETRY_MINUTES) that the partner
    accepts. The row stays after it lifts (`since` empty), with `released_at`:
    a refusal of a call that began before then used the old credentials and
    holds nothing."""

    biller = models.OneToOneField(
        Biller, on_delete=models.PROTECT, primary_key=True, related_name="credential_hold"
    )
    partner = models.CharField(max_length=32)
    since = models.DateTimeField(
        null=True, blank=True, help_text="When the credentials were refused; empty: not held."
    )
    held = models.PositiveIntegerField(default=0, help_text="Deliveries held.")
    last_probe_at = models.DateTimeField(null=True, blank=True)
    probe = models.ForeignKey(
        "Delivery",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The one held delivery let through to try the credentials again.",
    )
    released_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        if self.since is None:
            return f"{self.biller}: credentials accepted"
        return f"{self.biller}: credentials refused since {self.since:%Y-%m-%d %H:%M} UTC"


class OperatorAction(models.Model):
    """What a person did to a delivery, and why: the audit trail of the pump."""

    class Action(models.TextChoices):
        REPLAY = "replay", "Replayed a dead letter"
        MARK_POSTED = "mark_posted", "Marked posted (found in the partner's system)"
        REPOST = "repost", "Re-posted after review"
        REPOST_REJECTED = "repost_rejected", "Re-posted a rejected delivery"
        RETRY_HELD = "retry_held", "Retried the deliveries held for credentials"
        APPLIED = "applied", "Reversal applied in the biller's system"

    delivery = models.ForeignKey(
        Delivery, on_delete=models.PROTECT, null=True, blank=True, related_name="actions"
    )
    reversal = models.ForeignKey(
        Reversal, on_delete=models.PROTECT, null=True, blank=True, related_name="actions"
    )
    biller = models.ForeignKey(
        Biller,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For an action on a biller's deliveries as a whole (retry the held ones).",
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.CharField(max_length=500)
    receipt_number = models.CharField(max_length=100, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_action_display()} by {self.user} at {self.created_at:%Y-%m-%d %H:%M}"
