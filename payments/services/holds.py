"""The credential hold from outside the pump: a setting of the biller saved
(billers.hooks calls back here), and an operator's "Retry now" (a required
reason, an OperatorAction row). Both lift the hold at once; the held
deliveries are enqueued on commit and taken under the usual lease."""

from django.db import transaction

from billers.models import Biller
from icintegrations.errors import ErrorCode
from payments.models import CredentialHold, OperatorAction
from payments.services.delivery import credential_hold_release
from payments.services.payments import PaymentRefused


def credential_hold_on_settings_saved(*, biller_id: int) -> int:
    """A setting of the biller was saved (billers.hooks): try the held deliveries
    again with what is stored now. Returns how many were released."""
    if not CredentialHold.objects.filter(biller_id=biller_id, since__isnull=False).exists():
        return 0
    return credential_hold_release(biller_id=biller_id, why="a setting of the biller was saved")


@transaction.atomic
def credential_hold_retry(*, biller: Biller, user, reason: str) -> int:
    """An operator's "Retry now": lift the biller's hold and enqueue what it held,
    written to the audit trail. PaymentRefused when there is no reason or no hold."""
    reason = reason.strip()
    if not reason:
        raise PaymentRefused("A reason is required.", code=ErrorCode.REASON_REQUIRED)
    if not CredentialHold.objects.filter(biller=biller, since__isnull=False).exists():
        raise PaymentRefused(
            f"The deliveries of {biller} are not held for its credentials.",
            code=ErrorCode.NOT_HELD,
        )
    released = credential_hold_release(biller_id=biller.pk, why=f"Retry now: {reason}")
    OperatorAction.objects.create(
        biller=biller, action=OperatorAction.Action.RETRY_HELD, reason=reason[:500], user=user
    )
    return released
