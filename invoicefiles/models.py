"""Invoice files: a partner's upload (IMT's pipe-delimited export), what became
of it, and the rows that were refused."""

import uuid

from django.db import models

from billers.models import ApiClient, Biller


class InvoiceFileStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class InvoiceFile(models.Model):
    """One uploaded file. The same bytes (SHA-256) are one file per biller."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    biller = models.ForeignKey(Biller, on_delete=models.CASCADE, related_name="invoice_files")
    sha256 = models.CharField("SHA-256", max_length=64)
    original_name = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(help_text="Bytes.")
    path = models.CharField(max_length=500, help_text="The stored upload, under the files dir.")
    uploaded_by = models.ForeignKey(
        ApiClient, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=InvoiceFileStatus.choices, default=InvoiceFileStatus.QUEUED
    )
    encoding = models.CharField(max_length=20, blank=True)
    rows = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=1000, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    invoice_count = models.PositiveIntegerField(default=0)
    total_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    bif_path = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was last handed to the broker."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pruned_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the stored upload and its BIF were deleted (ICI_INVOICE_FILE_KEEP_DAYS).",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["biller", "sha256"], name="uniq_biller_file_sha256"),
        ]

    def __str__(self):
        return f"{self.original_name or self.pk} ({self.status})"


class InvoiceFileError(models.Model):
    """A refused row (or, with line 0, the whole file): where and why."""

    invoice_file = models.ForeignKey(InvoiceFile, on_delete=models.CASCADE, related_name="errors")
    line = models.PositiveIntegerField()
    field = models.CharField(max_length=100, blank=True)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["invoice_file", "line", "id"]

    def __str__(self):
        return f"line {self.line} {self.field}: {self.message}"
