import pytest
from cryptography.fernet import Fernet

from tests.support.partners import CITIZENSERVE_KEY, IMT_INTEGRATOR_ID


@pytest.fixture
def catalogs(db):
    """The settings and options catalogs (a data migration). A transactional test
    ends by flushing every table, so a later transactional test loads them again."""
    import importlib

    from django.apps import apps

    importlib.import_module("billers.migrations.0002_settings_catalog").load(apps, None)


@pytest.fixture
def presets(catalogs):
    """Both billers of the source documents, loaded from their presets and active
    (the tests' and the demo's path past the go-live checklist)."""
    from billers.services.presets import biller_preset_load

    return {
        name: biller_preset_load(name=name, environ={}, activate=True).biller
        for name in ("peoria", "imt")
    }


@pytest.fixture
def fernet_key():
    return Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _no_cached_configuration():
    from icintegrations import memo

    memo.clear_all()
    yield
    memo.clear_all()


@pytest.fixture
def fresh_throttles():
    """An empty cache (the API's throttles) before and after the test. Autouse
    in the partners, invoicefiles and payments tests (their conftest.py)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def citizenserve_sandbox():
    from partners.sandbox import SandboxServer

    server = SandboxServer(partner="citizenserve", credential=CITIZENSERVE_KEY, port=0, seed=7)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def imt_sandbox():
    from partners.sandbox import SandboxServer

    server = SandboxServer(partner="imt", credential=IMT_INTEGRATOR_ID, port=0, seed=7)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def peoria(presets, citizenserve_sandbox):
    """Peoria (CitizenServe), calling the CitizenServe sandbox."""
    from partners.services.sandboxes import biller_point_at_sandbox

    biller = presets["peoria"]
    biller_point_at_sandbox(
        biller=biller, sandbox_url=citizenserve_sandbox.url, credential=CITIZENSERVE_KEY
    )
    return biller


@pytest.fixture
def imt(presets, imt_sandbox):
    """IMT, calling the IMT sandbox."""
    from partners.services.sandboxes import biller_point_at_sandbox

    biller = presets["imt"]
    biller_point_at_sandbox(
        biller=biller, sandbox_url=imt_sandbox.url, credential=IMT_INTEGRATOR_ID
    )
    return biller


@pytest.fixture
def api(presets):
    """An API client of both billers, authenticated."""
    from rest_framework.test import APIClient

    from billers.services.api_clients import api_client_create

    _, token = api_client_create(name="payer-site", bids=[2249, 1367])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
