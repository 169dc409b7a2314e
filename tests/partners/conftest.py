import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from billers.models import Biller
from billers.services.api_clients import api_client_create
from partners.sandbox import SandboxServer
from partners.services.sandboxes import biller_point_at_sandbox

CITIZENSERVE_KEY = "test-citizenserve-key-0001"
IMT_INTEGRATOR_ID = "test-imt-integrator-0001"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def citizenserve_sandbox():
    server = SandboxServer(partner="citizenserve", credential=CITIZENSERVE_KEY, port=0, seed=7)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def imt_sandbox():
    server = SandboxServer(partner="imt", credential=IMT_INTEGRATOR_ID, port=0, seed=7)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def peoria(presets, citizenserve_sandbox) -> Biller:
    """Peoria (CitizenServe), calling the CitizenServe sandbox."""
    biller = presets["peoria"]
    biller_point_at_sandbox(
        biller=biller, sandbox_url=citizenserve_sandbox.url, credential=CITIZENSERVE_KEY
    )
    return biller


@pytest.fixture
def imt(presets, imt_sandbox) -> Biller:
    """IMT, calling the IMT sandbox."""
    biller = presets["imt"]
    biller_point_at_sandbox(
        biller=biller, sandbox_url=imt_sandbox.url, credential=IMT_INTEGRATOR_ID
    )
    return biller


@pytest.fixture
def api(presets):
    """An API client of both billers, authenticated."""
    _, token = api_client_create(name="payer-site", bids=[2249, 1367])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
