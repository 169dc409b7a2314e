"""The forms of the operators' pages (payments.admin): what each action does,
as the operator chooses it, and the reason it needs."""

from django import forms

from payments.models import Delivery, OperatorAction
from payments.services.operators import ALLOWED_FROM

Action = OperatorAction.Action

# What each choice does, as the operator chooses it (the Action labels say what was done).
ACTION_CHOICES = {
    Action.REPLAY: "Replay: post it to the partner again, with a fresh set of retries",
    Action.MARK_POSTED: "Mark posted: it is in the partner's system already",
    Action.REPOST: "Re-post: it is not in the partner's system; post it again",
    Action.REPOST_REJECTED: "Re-post: the partner refused it; what it refused is fixed, "
    "post it again",
}


def delivery_actions(delivery: Delivery) -> list[Action]:
    """The operator actions that fit the delivery's status."""
    return [action for action in ACTION_CHOICES if delivery.status in ALLOWED_FROM[action]]


class DeliveryResolveForm(forms.Form):
    action = forms.ChoiceField(widget=forms.RadioSelect)
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Why: kept in the audit trail with your name.",
    )
    receipt_number = forms.CharField(
        label="Partner receipt number",
        max_length=100,
        required=False,
        help_text="For mark posted: the receipt number the partner's system shows, if any.",
    )

    def __init__(self, *args, delivery: Delivery, **kwargs):
        super().__init__(*args, **kwargs)
        fitting = delivery_actions(delivery)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)  # declared above
        action.choices = [(choice.value, ACTION_CHOICES[choice]) for choice in fitting]
        action.error_messages["invalid_choice"] = (
            f"That action does not fit a delivery in status “{delivery.get_status_display()}”."
        )
        if len(fitting) == 1:
            action.initial = fitting[0].value

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Django's own clean() returns cleaned_data
        if cleaned.get("receipt_number") and cleaned.get("action") != Action.MARK_POSTED:
            self.add_error("receipt_number", "A receipt number goes with mark posted only.")
        return cleaned


class ReversalApplyForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="How and where it was applied: kept in the audit trail with your name.",
    )


class HoldRetryForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Why now (e.g. the partner set the key up again): kept in the audit trail "
        "with your name.",
    )
