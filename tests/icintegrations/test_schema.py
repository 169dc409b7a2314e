"""The OpenAPI schema states the API's own rules: every error each operation
answers with, by status and code, and the patterns and lengths of its input."""

import ast
import inspect
import re
import textwrap
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

from icintegrations.errors import ErrorCode
from invoicefiles.apis import InvoiceFileBifApi, InvoiceFileDetailApi, InvoiceFileUploadApi
from partners.apis import BillPdfApi, lookup_checked
from payments.apis import (
    PaymentAchReturnApi,
    PaymentCreateApi,
    PaymentDetailApi,
    PaymentVoidApi,
)
from payments.apis_lookup import InvoiceLookupApi
from payments.services.payments import ACCEPT_REFUSALS
from payments.services.reversals import ACH_RETURN_REFUSALS

README = Path(__file__).resolve().parents[2] / "README.md"
LOOKUP = "/api/v1/billers/{bid}/invoices/{invoice_number}"
PDF = LOOKUP + "/pdf"
UPLOAD = "/api/v1/billers/{bid}/invoice-files"
PAYMENTS = "/api/v1/billers/{bid}/payments"
ACH_RETURN = PAYMENTS + "/{guid}/ach-return"


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def codes(operation, status) -> set[str]:
    response = operation["responses"][str(status)]
    return set(response["content"]["application/json"]["schema"]["properties"]["code"]["enum"])


def parameter(operation, name) -> dict:
    return next(p["schema"] for p in operation["parameters"] if p["name"] == name)


def test_every_operation_documents_the_errors_every_route_answers_with(schema):
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        assert ErrorCode.INVALID_REQUEST in codes(operation, 400), where
        assert ErrorCode.NOT_AUTHENTICATED in codes(operation, 401), where
        assert {ErrorCode.NOT_FOUND, ErrorCode.BILLER_NOT_FOUND} <= codes(operation, 404), where
        assert codes(operation, 405) == {ErrorCode.METHOD_NOT_ALLOWED}, where
        assert ErrorCode.REQUEST_TOO_LARGE in codes(operation, 413), where
        assert codes(operation, 500) == {ErrorCode.INTERNAL_ERROR}, where


def test_the_throttled_lookups_document_429(schema):
    throttled = {path for path, _m, op in operations(schema) if "429" in op["responses"]}
    assert throttled == {LOOKUP, PDF}
    assert codes(schema["paths"][LOOKUP]["get"], 429) == {ErrorCode.THROTTLED}


def test_the_invoice_number_has_the_lengths_and_pattern_the_api_checks(schema):
    for path in (LOOKUP, PDF):
        number = parameter(schema["paths"][path]["get"], "invoice_number")
        assert (number["minLength"], number["maxLength"]) == (1, 100)
        pattern = re.compile(number["pattern"])
        for good in ("PBL19-010007", "040620220901", " A 1 ", "Ü-7", "x" * 100):
            assert pattern.match(good), good
            lookup_checked(good, None)  # the API takes it too
        for bad in ("", "   ", "a\x00b", "a\tb", "a\nb", "a\x85b", "a\u200bb", "a\u2028b"):
            assert not pattern.match(bad), repr(bad)
            with pytest.raises(Exception, match="printable"):
                lookup_checked(bad, None)
        zip_code = parameter(schema["paths"][path]["get"], "zip")
        assert zip_code["maxLength"] == 20
        assert re.match(zip_code["pattern"], "85345") and not re.match(zip_code["pattern"], "8\x00")


def test_an_empty_upload_and_a_too_large_one_are_documented(schema):
    upload = schema["paths"][UPLOAD]["post"]
    assert {ErrorCode.EMPTY_FILE, ErrorCode.FILE_MISSING} <= codes(upload, 400)
    assert codes(upload, 413) == {ErrorCode.FILE_TOO_LARGE, ErrorCode.REQUEST_TOO_LARGE}


def test_a_payments_422_codes_are_its_policys_as_the_readme_lists_them(schema):
    readme = README.read_text()
    assert codes(schema["paths"][PAYMENTS]["post"], 422) == set(ACCEPT_REFUSALS)
    assert codes(schema["paths"][PAYMENTS]["post"], 409) == {ErrorCode.PAYMENT_GUID_CONFLICT}
    assert codes(schema["paths"][ACH_RETURN]["post"], 422) == set(ACH_RETURN_REFUSALS)
    for code in (*ACCEPT_REFUSALS, *ACH_RETURN_REFUSALS):
        assert f"`{code}`" in readme, code


def test_the_payment_input_states_its_printable_pattern(schema):
    fields = schema["components"]["schemas"]["PaymentIn"]["properties"]
    number = fields["invoice_number"]
    assert (number["minLength"], number["maxLength"]) == (1, 100)
    assert not re.match(fields["payment_source"]["pattern"], "Web CC\x00")
    assert re.match(fields["payment_source"]["pattern"], "Web CC")


def test_the_partner_errors_of_the_lookup_and_the_bill_pdf(schema):
    lookup, pdf = schema["paths"][LOOKUP]["get"], schema["paths"][PDF]["get"]
    assert codes(lookup, 503) == codes(pdf, 503) == {ErrorCode.PARTNER_UNAVAILABLE}
    assert codes(lookup, 504) == codes(pdf, 504) == {ErrorCode.PARTNER_TIMEOUT}
    assert ErrorCode.PARTNER_BAD_RESPONSE in codes(pdf, 502)
    assert ErrorCode.BILL_NOT_AVAILABLE in codes(pdf, 404)
    # A file's errors are JSON; its success is the file.
    assert set(pdf["responses"]["200"]["content"]) == {"application/pdf"}


# --- every code the code behind an operation raises is in its schema ---------

VIEWS = {
    ("get", LOOKUP): InvoiceLookupApi.get,
    ("get", PDF): BillPdfApi.get,
    ("post", PAYMENTS): PaymentCreateApi.post,
    ("get", PAYMENTS + "/{guid}"): PaymentDetailApi.get,
    # Both documented views hand on to their base's post.
    ("post", PAYMENTS + "/{guid}/void"): super(PaymentVoidApi, PaymentVoidApi).post,
    ("post", ACH_RETURN): super(PaymentAchReturnApi, PaymentAchReturnApi).post,
    ("post", UPLOAD): InvoiceFileUploadApi.post,
    ("get", UPLOAD + "/{file_id}"): InvoiceFileDetailApi.get,
    ("get", UPLOAD + "/{file_id}/bif"): InvoiceFileBifApi.get,
}
APPS = {"icintegrations", "billers", "partners", "payments", "invoicefiles"}
# Codes the followed functions name without answering with them.
NOT_ANSWERED = {
    ErrorCode.WORKER_LOST,
    ErrorCode.NOT_SUPPORTED,
    ErrorCode.PARTNER_ERROR,  # recorded on a partner call; answered as partner_unavailable
    ErrorCode.PARTNER_NOT_FOUND,  # answered as invoice_not_found
    ErrorCode.PARTNER_NOT_CONFIGURED,  # answered as partner_unavailable
}
# The void and the ACH return share reversal_record: each never reaches the other's checks.
UNREACHABLE = {
    PAYMENTS + "/{guid}/void": {*ACH_RETURN_REFUSALS, ErrorCode.UNEXPECTED_RETURN_CODE},
    ACH_RETURN: {ErrorCode.UNEXPECTED_RETURN_CODE},  # a void's, sent a return code
}


def named_codes(function, seen, depth=4) -> set[str]:
    """The ErrorCode members and `code="..."` literals a function names, and those
    of the hub's own functions it calls (by plain name), `depth` calls deep."""
    function = inspect.unwrap(function)
    if function in seen or depth == 0:
        return set()
    seen.add(function)
    module = inspect.getmodule(function)
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    found: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "ErrorCode"
        ):
            found.add(ErrorCode[node.attr])
        elif isinstance(node, ast.keyword) and node.arg == "code":
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.add(node.value.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called = getattr(module, node.func.id, None)
            if inspect.isfunction(called) and called.__module__.split(".")[0] in APPS:
                found |= named_codes(called, seen, depth - 1)
    return found


@pytest.mark.parametrize("method,path", list(VIEWS), ids=lambda v: v)
def test_every_code_an_operation_raises_is_in_its_schema(schema, method, path):
    operation = schema["paths"][path][method]
    documented = set()
    for status in operation["responses"]:
        if status.startswith(("4", "5")):
            documented |= codes(operation, status)
    raised = named_codes(VIEWS[method, path], seen=set()) - NOT_ANSWERED
    raised -= UNREACHABLE.get(path, set())
    assert raised, "the scan found nothing: it no longer reads the code"
    assert raised <= documented, sorted(raised - documented)


# --- a file endpoint takes an Accept of its own type (schemathesis found 406s) --


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path,accept",
    [
        (
            "/api/v1/billers/1367/invoice-files/00000000-0000-4000-8000-000000000000/bif",
            "text/plain",
        ),
        ("/api/v1/billers/1367/invoices/NO-SUCH/pdf", "application/pdf"),
    ],
)
def test_a_file_endpoint_asked_for_its_file_type_answers_its_error_as_json(api, path, accept):
    response = api.get(path, HTTP_ACCEPT=accept)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] in {"invoice_file_not_found", "invoice_not_found"}
