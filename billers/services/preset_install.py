"""Loading a preset without undoing anyone's edits (`load_biller_preset`).

A preset creates its biller when there is none. For a biller that exists, it
only says how the biller differs from the preset, and changes nothing, unless
forced: then the preset's values are written over the biller's (rows the
preset does not name are kept, as the preset loader always did).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from billers.models import Biller
from billers.services.config_document import BillerDocumentDiff, biller_document_plan
from billers.services.presets import PresetLoadResult, biller_preset_load, preset_read
from icintegrations.errors import ApplicationError


@dataclass
class PresetInstallResult:
    name: str
    loaded: PresetLoadResult | None = None  # the preset was written
    diff: BillerDocumentDiff | None = None  # the biller exists and was left as it is


def _as_document(data: Mapping, environ: Mapping[str, str]) -> dict:
    """The preset as a document's data: a secret from its environment variable
    when set, else left as it is (as the preset loader does)."""
    settings = []
    for item in data["settings"]:
        if "secret_env" in item:
            value = environ.get(item["secret_env"], "")
            settings.append(
                {
                    "setting_id": item["setting_id"],
                    "secret": True,
                    **({"value": value} if value else {}),
                }
            )
        else:
            settings.append({"setting_id": item["setting_id"], "value": item["value"]})
    return {**data, "settings": settings}


def biller_preset_diff(
    *, name: str, data: Mapping, environ: Mapping[str, str]
) -> BillerDocumentDiff:
    """How the preset's biller differs from the preset (rows the preset does not name aside)."""
    try:
        return biller_document_plan(_as_document(data, environ), prune=False)
    except ApplicationError as e:
        raise ApplicationError(
            f"Preset {name}: {e.message}", code="invalid_preset", extra=e.extra
        ) from None


def biller_preset_install(
    *,
    name: str,
    force: bool = False,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    activate: bool = False,
) -> PresetInstallResult:
    """Create the preset's biller, or (for one that exists) tell how it differs and
    change nothing unless `force`. `activate`: see biller_preset_load (demo, tests)."""
    environ = os.environ if environ is None else environ
    data = preset_read(name=name, path=path)
    if force or not Biller.objects.filter(bid=data["biller"]["bid"]).exists():
        return PresetInstallResult(
            name=name,
            loaded=biller_preset_load(name=name, path=path, environ=environ, activate=activate),
        )
    return PresetInstallResult(
        name=name, diff=biller_preset_diff(name=name, data=data, environ=environ)
    )
