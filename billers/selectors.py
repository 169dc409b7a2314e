from billers.models import Biller, BillerSetting, SettingKind
from icintegrations.errors import ApplicationError, ErrorCode, NotFoundError


def biller_get(*, bid: int) -> Biller:
    try:
        return Biller.objects.get(bid=bid)
    except Biller.DoesNotExist:
        raise NotFoundError(f"No biller with BID {bid}.", code="biller_not_found") from None


def billers_get(*, bids: list[int]) -> list[Biller]:
    """The billers `bids` by BID, every one of them, else biller_not_found naming
    the BIDs that do not exist."""
    billers = list(Biller.objects.filter(bid__in=bids).order_by("bid"))
    missing = sorted(set(bids) - {b.bid for b in billers})
    if missing:
        raise ApplicationError(
            f"No biller with BID {', '.join(map(str, missing))}.", code=ErrorCode.BILLER_NOT_FOUND
        )
    return billers


def biller_setting_values(*, biller: Biller) -> dict[int, str]:
    """Every setting of a biller by setting ID, secrets decrypted (for connectors only)."""
    return {
        row.setting_id: (row.secret or "") if row.setting.is_secret else row.value
        for row in BillerSetting.objects.filter(biller=biller).select_related("setting")
    }


def biller_secret_values(*, biller: Biller) -> dict[int, str]:
    """The biller's secret settings by setting ID, decrypted: what a page must redact."""
    return {
        setting_id: secret
        for setting_id, secret in BillerSetting.objects.filter(
            biller=biller, setting__kind=SettingKind.SECRET
        ).values_list("setting_id", "secret")
        if secret
    }
