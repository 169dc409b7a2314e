import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billers.models import ApiClient
from icintegrations.authentication import token_hash

pytestmark = pytest.mark.django_db


def test_create_api_client_prints_the_token_alone_on_its_last_line(presets):
    out = io.StringIO()
    call_command(
        "create_api_client", "payer-site", "--biller", "2249", "--biller", "1367", stdout=out
    )
    token = out.getvalue().rstrip("\n").splitlines()[-1]
    assert token.startswith("ici_") and " " not in token
    client = ApiClient.objects.get(name="payer-site")
    assert client.token_hash == token_hash(token)
    assert token not in (client.token_hash, client.token_prefix)
    assert sorted(client.billers.values_list("bid", flat=True)) == [1367, 2249]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["x", "--biller", "4242"], "No biller with BID 4242"),
        (["", "--biller", "2249"], "needs a name"),
    ],
)
def test_create_api_client_refuses_bad_input(presets, args, says):
    with pytest.raises(CommandError, match=says):
        call_command("create_api_client", *args, stdout=io.StringIO())
    assert not ApiClient.objects.exists()


def test_a_client_name_is_taken_once(presets):
    call_command("create_api_client", "site", "--biller", "2249", stdout=io.StringIO())
    call_command("create_api_client", "site", "--biller", "2249", stdout=io.StringIO())
    # the second run adds to the same client (tests/billers/test_additive_onboarding.py)
    assert ApiClient.objects.filter(name="site").count() == 1


def test_the_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/billers/{bid}/invoices/{invoice_number}" in paths
    assert "/api/v1/billers/{bid}/invoices/{invoice_number}/pdf" in paths
    assert client.get("/api/docs/").status_code == 200
