from django import forms
from django.forms.models import BaseInlineFormSet
from django.utils import timezone

from billers.choices import RecordType
from billers.models import BillerSetting, FieldMapping
from billers.services.document_schema import MAPPING_FIELDS, MAPPING_ROW_FIELDS
from billers.services.mapping_requirements import (
    mapping_requirements_problems,
    mapping_row_change_problems,
)


class BillerSettingForm(forms.ModelForm):
    """A setting row: plain values in `value`, secrets typed into a write-only
    field that is never rendered back (not even after a validation error)."""

    new_secret = forms.CharField(
        label="Secret (write-only)",
        required=False,
        strip=False,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "new-password", "size": 24}
        ),
        help_text="Type to set or replace; leave empty to keep the stored secret.",
    )

    class Meta:
        model = BillerSetting
        fields = ["setting", "value"]
        widgets = {"value": forms.TextInput(attrs={"size": 48})}

    def clean(self):
        data = super().clean()
        assert data is not None  # Django's own clean() returns cleaned_data
        definition = data.get("setting")
        new_secret = data.get("new_secret") or ""
        if definition is None:
            return data
        if definition.is_secret:
            if data.get("value"):
                self.add_error(
                    "value",
                    f"Setting {definition.id} is a secret: type it in the secret field, "
                    "where it is never shown again.",
                )
            elif new_secret:
                self.instance.secret = new_secret
                self.instance.secret_changed_at = timezone.now()
            elif not (self.instance.pk and self.instance.secret_changed_at):
                self.add_error("new_secret", f"Setting {definition.id} needs its secret value.")
        else:
            if new_secret:
                self.add_error(
                    "new_secret",
                    f"Setting {definition.id} is not a secret; give it in the value field.",
                )
            self.instance.secret = None
            self.instance.secret_changed_at = None
        return data


class MappingReviewForm(forms.Form):
    """A record to review the biller's mapping with: pasted, or read live from the partner."""

    sample = forms.CharField(
        label="Sample partner record",
        required=False,
        strip=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 70, "spellcheck": "false"}),
        help_text="A JSON object (CitizenServe's getQuery answer, its [ ] around it or not; "
        "IMT's invoice detail), or a pipe-delimited header line and one data line (an "
        "invoice file, such as IMT's).",
    )
    invoice_number = forms.CharField(
        label="Or an invoice number, looked up live",
        required=False,
        max_length=100,
        help_text="Looked up at the partner, or its sandbox: wherever the biller's endpoint "
        "setting points. Nothing is written to the hub.",
    )

    def clean(self):
        data = super().clean()
        assert data is not None  # Django's own clean() returns cleaned_data
        sample = (data.get("sample") or "").strip()
        number = (data.get("invoice_number") or "").strip()
        if bool(sample) == bool(number):
            raise forms.ValidationError(
                "Give a sample record or an invoice number to look up (one of them, not both)."
            )
        data["sample"], data["invoice_number"] = sample, number
        return data


class ConnectionTestForm(forms.Form):
    invoice_number = forms.CharField(
        label="Invoice number",
        required=False,
        max_length=100,
        help_text="Optional. Without one, the lookup asks for a number no partner has: "
        "an answer of “no such invoice” means the endpoint and the credentials work.",
    )


class FieldMappingRowForm(forms.ModelForm):
    """A mapping row on the biller's page: compact widgets, so that a row fits two
    lines of a 1,366 px screen (the record type by its code, as the documents name
    it; the note in a small text box)."""

    class Meta:
        model = FieldMapping
        fields = list(MAPPING_ROW_FIELDS)
        widgets = {"note": forms.Textarea(attrs={"rows": 2, "cols": 30})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        widget = self.fields["record_type"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = [(value, value or label) for value, label in widget.choices]
        widget.attrs["title"] = ", ".join(f"{value} {label}" for value, label in RecordType.choices)


class FieldMappingFormSet(BaseInlineFormSet):
    """The biller page's mapping: saved only when it maps every field the biller's
    partner requires (billers.catalog.REQUIRED_MAPPING), each lack named."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return  # the rows' own errors first
        rows = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)  # type: ignore[attr-defined]
        ]
        problems = mapping_requirements_problems(partner=self.instance.partner, rows=rows)
        if problems:
            raise forms.ValidationError(
                [forms.ValidationError(p, code="required_mapping") for p in problems]
            )


class FieldMappingForm(forms.ModelForm):
    """A mapping row on its own page: refused when saving it would leave its
    biller's mapping without a required field it had."""

    class Meta:
        model = FieldMapping
        fields = ["biller", *MAPPING_FIELDS]

    def clean(self):
        data = super().clean()
        assert data is not None  # Django's own clean() returns cleaned_data
        if self.errors or data.get("biller") is None:
            return data
        problems = mapping_row_change_problems(row_pk=self.instance.pk, new=data)
        if problems:
            raise forms.ValidationError(
                [forms.ValidationError(p, code="required_mapping") for p in problems]
            )
        return data
