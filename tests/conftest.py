import pytest
from cryptography.fernet import Fernet


@pytest.fixture
def catalogs(db):
    """The settings and options catalogs (a data migration). A transactional test
    ends by flushing every table, so a later transactional test loads them again."""
    import importlib

    from django.apps import apps

    importlib.import_module("billers.migrations.0002_settings_catalog").load(apps, None)


@pytest.fixture
def presets(catalogs):
    """Both billers of the source documents, loaded from their presets."""
    from billers.services.presets import biller_preset_load

    return {name: biller_preset_load(name=name, environ={}).biller for name in ("peoria", "imt")}


@pytest.fixture
def fernet_key():
    return Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _no_cached_configuration():
    from icintegrations import memo

    memo.clear_all()
    yield
    memo.clear_all()
