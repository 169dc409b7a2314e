from django import forms
from django.utils import timezone

from billers.models import BillerSetting


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
