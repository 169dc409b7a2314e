"""The configuration model of the hub: billers and everything a Solutions
Engineer sets up for one, plus the invoices and customer records that RTDR and
invoice files bring in."""

import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Value, When
from simple_history.models import HistoricalRecords

from billers.choices import (
    BIF_CUSTOMIZATIONS,
    Environment,
    MappingRule,
    Partner,
    PartnerFormat,
    RecordType,
    RefreshSource,
    SettingKind,
)
from billers.validators import (
    validate_customization_value,
    validate_mapping_rule,
    validate_setting_value,
    validate_time_zone,
)
from icintegrations.fields import EncryptedTextField


class Biller(models.Model):
    bid = models.PositiveIntegerField("BID", unique=True)
    name = models.CharField(max_length=200)
    biller_guid = models.UUIDField("BillerGuid", unique=True, default=uuid.uuid4)
    partner = models.CharField(max_length=32, choices=Partner.choices)
    environment = models.CharField(
        max_length=8, choices=Environment.choices, default=Environment.TEST
    )
    is_active = models.BooleanField("active", default=True)
    lookup_requires_zip = models.BooleanField(
        "lookup requires ZIP",
        default=False,
        help_text="Invoice lookups must give the customer's ZIP as a second factor, so that "
        "invoice numbers cannot be used to harvest names and addresses.",
    )
    time_zone = models.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="The biller's IANA time zone, e.g. America/Phoenix. Every day of the biller "
        "is a day here: a payment's date at the partner, the mapping's today, the BIF's "
        "creation date, the ACH return window and the portal's days.",
    )
    # The payment policy (payments.services.payments): see README, "Payments".
    overpayment_allowance = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        default=Decimal("0.00"),
        help_text="How much a payment may exceed the invoice's open balance: 0.00 refuses any "
        "overpayment (amount_exceeds_balance); empty means no limit.",
    )
    maximum_payment = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("100000.00"),
        help_text="The most one payment may be; above it a payment is refused "
        "(amount_above_maximum), whatever the allowance.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["bid"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(time_zone=""), name="biller_time_zone_required"
            ),
            models.CheckConstraint(
                condition=models.Q(overpayment_allowance__gte=0)
                | models.Q(overpayment_allowance__isnull=True),
                name="biller_overpayment_allowance_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(maximum_payment__gt=0), name="biller_maximum_payment_positive"
            ),
        ]

    def __str__(self):
        return f"{self.bid} {self.name}"


class SettingDefinition(models.Model):
    """One entry of the Advanced Settings catalog (a data migration fills it)."""

    id = models.PositiveIntegerField("setting ID", primary_key=True)
    description = models.CharField(max_length=200)
    unique_per_biller = models.BooleanField(default=True)
    kind = models.CharField(max_length=8, choices=SettingKind.choices)

    class Meta:
        ordering = ["id"]
        verbose_name = "advanced setting (catalog)"
        verbose_name_plural = "advanced settings (catalog)"

    def __str__(self):
        return f"{self.id} {self.description}"

    @property
    def is_secret(self) -> bool:
        return self.kind == SettingKind.SECRET


class BillerSetting(models.Model):
    """A biller's value of one Advanced Setting.

    Plain values live in `value`; secret ones only in `secret`, encrypted, and
    are never shown, logged or kept in the history (only when they changed).
    """

    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="settings")
    setting = models.ForeignKey(SettingDefinition, on_delete=models.PROTECT)
    value = models.TextField(blank=True)
    secret = EncryptedTextField(blank=True, null=True)
    secret_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(
        excluded_fields=["secret"],
        verbose_name="setting change",
        verbose_name_plural="setting changes (audit)",
    )

    class Meta:
        ordering = ["biller", "setting"]
        constraints = [
            models.UniqueConstraint(fields=["biller", "setting"], name="uniq_biller_setting"),
        ]

    def __str__(self):
        return f"Setting {self.setting_id}"

    @property
    def has_secret(self) -> bool:
        return bool(self.secret)

    def clean(self):
        if self.setting_id is None:
            return
        if self.setting.is_secret:
            if self.value:
                raise ValidationError({"value": "A secret setting keeps its value encrypted."})
        else:
            validate_setting_value(self.setting, self.value)


class IntegrationOption(models.Model):
    """A numbered On/Off integration option (a catalog apart from the settings)."""

    id = models.PositiveIntegerField("option ID", primary_key=True)
    description = models.CharField(max_length=200)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.id} {self.description}"


class BillerOption(models.Model):
    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="options")
    option = models.ForeignKey(IntegrationOption, on_delete=models.PROTECT)
    enabled = models.BooleanField("On", default=False)

    history = HistoricalRecords(
        verbose_name="option change", verbose_name_plural="option changes (audit)"
    )

    class Meta:
        ordering = ["biller", "option"]
        constraints = [
            models.UniqueConstraint(fields=["biller", "option"], name="uniq_biller_option"),
        ]

    def __str__(self):
        return f"Option {self.option_id} {'On' if self.enabled else 'Off'}"


class BifCustomization(models.Model):
    """A biller's BIF customization (payment policy and file defaults)."""

    NAME_CHOICES = [(name, name) for name in BIF_CUSTOMIZATIONS]

    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="bif_customizations")
    name = models.CharField(max_length=64, choices=NAME_CHOICES)
    value = models.CharField(max_length=500, blank=True)
    note = models.CharField(max_length=500, blank=True)

    history = HistoricalRecords(
        verbose_name="BIF customization change",
        verbose_name_plural="BIF customization changes (audit)",
    )

    class Meta:
        ordering = ["biller", "name"]
        verbose_name = "BIF customization"
        constraints = [
            models.UniqueConstraint(fields=["biller", "name"], name="uniq_biller_customization"),
        ]

    def __str__(self):
        return f"{self.name}={self.value}"

    def clean(self):
        if self.name:
            validate_customization_value(self.name, self.value)


class InvoiceType(models.Model):
    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="invoice_types")
    type_id = models.PositiveIntegerField("InvoiceTypeID")
    name = models.CharField(max_length=100)
    virtual_site = models.BooleanField(
        default=True, help_text="Offered to payers on the Virtual Site."
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["biller", "type_id"]
        constraints = [
            models.UniqueConstraint(fields=["biller", "type_id"], name="uniq_biller_invoice_type"),
        ]

    def __str__(self):
        return f"{self.type_id} {self.name}"


RECORD_TYPE_ORDER = Case(
    When(record_type=RecordType.FILE_HEADER, then=Value(0)),
    When(record_type=RecordType.INVOICE_HEADER, then=Value(1)),
    When(record_type=RecordType.CUSTOMER_RECORD, then=Value(2)),
    When(record_type=RecordType.INVOICE_DETAIL, then=Value(3)),
    default=Value(4),
)


class FieldMapping(models.Model):
    """One row of a biller's field mapping: where IC field `file_spec_id` comes from.

    `rule_value` depends on `rule`: the constant for `constant`, the IC field
    name whose year is taken for `year_of` (e.g. `InvoiceDate`), the setting ID
    for `setting` (`8`, or `8:installationID` for one query parameter of a URL
    setting); empty otherwise.
    """

    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="field_mappings")
    file_spec_id = models.PositiveIntegerField("IC FileSpecID")
    ic_field = models.CharField("IC field", max_length=64)
    record_type = models.CharField(max_length=2, choices=RecordType.choices)
    in_file = models.BooleanField("in file", default=False)
    required = models.BooleanField(default=False)
    partner_field = models.CharField(
        max_length=100, blank=True, help_text="The field's name in the partner's record."
    )
    partner_field_label = models.CharField(
        max_length=100, blank=True, help_text="The field as the technical design names it."
    )
    partner_format = models.CharField(
        max_length=16, choices=PartnerFormat.choices, blank=True, default=PartnerFormat.NONE
    )
    char_limit = models.PositiveIntegerField("character limit", null=True, blank=True)
    rule = models.CharField(max_length=16, choices=MappingRule.choices)
    rule_value = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=300, blank=True)

    history = HistoricalRecords(
        verbose_name="mapping change", verbose_name_plural="mapping changes (audit)"
    )

    class Meta:
        ordering = [RECORD_TYPE_ORDER, "file_spec_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["biller", "file_spec_id"], name="uniq_biller_file_spec_id"
            ),
        ]

    def __str__(self):
        return f"{self.file_spec_id} {self.ic_field} ({self.record_type})"

    def clean(self):
        validate_mapping_rule(
            rule=self.rule, rule_value=self.rule_value, partner_field=self.partner_field
        )


class Customer(models.Model):
    """The Customer Record (CR) of a biller's account."""

    # No index of its own: uniq_biller_account_number leads with the biller.
    biller = models.ForeignKey(
        Biller, on_delete=models.CASCADE, related_name="customers", db_index=False
    )
    account_number = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    address1 = models.CharField(max_length=200, blank=True)
    address2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    zip = models.CharField(max_length=20, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email_address = models.CharField(max_length=254, blank=True)
    registration_value = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["biller", "account_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["biller", "account_number"], name="uniq_biller_account_number"
            ),
        ]

    def __str__(self):
        return f"{self.account_number} {self.name}"


class Invoice(models.Model):
    """The Invoice Header (IH) of an invoice, with the partner's raw record."""

    # No index of its own: uniq_biller_invoice_number leads with the biller.
    biller = models.ForeignKey(
        Biller, on_delete=models.CASCADE, related_name="invoices", db_index=False
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    invoice_number = models.CharField(max_length=100)
    record_type = models.CharField(max_length=1, default="N")
    invoice_format_guid = models.UUIDField(null=True, blank=True)
    invoice_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    total_amount_due = models.DecimalField(max_digits=12, decimal_places=2)
    balance_due = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    past_due = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    balance_forward = models.BooleanField(null=True, blank=True)
    biller_bill_year = models.PositiveSmallIntegerField(null=True, blank=True)
    biller_invoice_number = models.CharField(max_length=100, blank=True)
    invoice_type = models.ForeignKey(
        InvoiceType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    custom1 = models.CharField(max_length=500, blank=True)
    custom2 = models.CharField(max_length=500, blank=True)
    custom3 = models.CharField(max_length=500, blank=True)
    custom4 = models.CharField(max_length=500, blank=True)
    custom5 = models.CharField(max_length=500, blank=True)
    custom6 = models.CharField(max_length=500, blank=True)
    custom7 = models.CharField(max_length=500, blank=True)
    custom8 = models.CharField(max_length=500, blank=True)
    custom9 = models.CharField(max_length=500, blank=True)
    custom10 = models.CharField(max_length=500, blank=True)
    raw_payload = models.JSONField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    refreshed_via = models.CharField(max_length=16, choices=RefreshSource.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["biller", "invoice_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["biller", "invoice_number"], name="uniq_biller_invoice_number"
            ),
        ]

    def __str__(self):
        return self.invoice_number


class ApiClient(models.Model):
    """A caller of the REST API (the payer site, a partner uploading files),
    scoped to some billers. Only the SHA-256 of its token is stored."""

    name = models.CharField(max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(
        max_length=12, editable=False, help_text="The token's first characters, to tell it apart."
    )
    billers = models.ManyToManyField(Biller, related_name="api_clients")
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API client"

    def __str__(self):
        return self.name


class BillerMembership(models.Model):
    """A biller portal user's access to one biller: the portal shows a user the
    data of its billers and answers 404 for any other."""

    user = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, related_name="biller_memberships"
    )
    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["biller__bid", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "biller"], name="uniq_biller_membership"),
        ]

    def __str__(self):
        return f"{self.user} in {self.biller}"


class GoLiveEvidence(models.Model):
    """A go-live check that passed: a mapping review of a live record, or a
    connection test, with when and by whom. It counts for the go-live checklist
    only while no setting or mapping row of the biller changed after it."""

    class Kind(models.TextChoices):
        MAPPING_REVIEW = "mapping_review", "Mapping review with a live record"
        CONNECTION_TEST = "connection_test", "Connection test"

    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="go_live_evidence")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(db_index=True)
    by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["biller", "-at"]
        verbose_name = "go-live evidence"
        verbose_name_plural = "go-live evidence"

    def __str__(self):
        return f"{self.get_kind_display()} passed at {self.at:%Y-%m-%d %H:%M}"
