import uuid
from decimal import Decimal

from billers.models import (
    BifCustomization,
    Biller,
    BillerOption,
    BillerSetting,
    FieldMapping,
    InvoiceType,
    SettingKind,
)
from billers.services.document_schema import (
    BILLER_FIELDS,
    CUSTOMIZATION_FIELDS,
    DOCUMENT_FORMAT,
    INVOICE_TYPE_FIELDS,
    MAPPING_FIELDS,
)
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


def _json_value(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def biller_document_export(*, biller: Biller) -> dict:
    """The biller's whole configuration as a document (billers.services.document_schema):
    the presets' schema with `"format": 1`. A secret setting says only whether it
    is set (`{"setting_id": 10, "secret": true, "set": true}`), never its value."""
    settings: list[dict[str, object]] = []
    for row in BillerSetting.objects.filter(biller=biller).select_related("setting"):
        if row.setting.is_secret:
            settings.append({"setting_id": row.setting_id, "secret": True, "set": bool(row.secret)})
        else:
            settings.append({"setting_id": row.setting_id, "value": row.value})

    def rows(queryset, fields):
        return [{name: _json_value(getattr(row, name)) for name in fields} for row in queryset]

    return {
        "format": DOCUMENT_FORMAT,
        "biller": {name: _json_value(getattr(biller, name)) for name in BILLER_FIELDS},
        "settings": settings,
        "options": rows(
            BillerOption.objects.filter(biller=biller).order_by("option_id"),
            ("option_id", "enabled"),
        ),
        "bif_customizations": rows(
            BifCustomization.objects.filter(biller=biller).order_by("name"), CUSTOMIZATION_FIELDS
        ),
        "invoice_types": rows(
            InvoiceType.objects.filter(biller=biller).order_by("type_id"), INVOICE_TYPE_FIELDS
        ),
        "field_mappings": rows(FieldMapping.objects.filter(biller=biller), MAPPING_FIELDS),
    }
