"""The one registry of error codes: a partner's code becomes one domain error."""

import pickle

import pytest

from icintegrations.errors import ErrorCode, partner_error
from partners.connectors import errors as partner_errors


def test_every_partner_error_code_is_in_the_registry():
    classes = [
        value
        for value in vars(partner_errors).values()
        if isinstance(value, type) and issubclass(value, partner_errors.PartnerError)
    ]

    assert len(classes) >= 8
    assert all(isinstance(cls.code, ErrorCode) for cls in classes)


@pytest.mark.parametrize(
    "code, status",
    [
        ("partner_auth_failed", 502),
        ("partner_rejected", 502),
        ("partner_bad_record", 502),
        ("partner_bad_response", 502),
        ("partner_timeout", 504),
        ("partner_unavailable", 503),
    ],
)
def test_a_partner_code_answers_with_its_own_status_and_code(code, status):
    error = partner_error(code)

    assert (error.status_code, error.code) == (status, code)


@pytest.mark.parametrize("code", ["partner_not_configured", "partner_error", "no_such_code"])
def test_a_code_the_table_does_not_list_is_partner_unavailable(code):
    error = partner_error(code)

    assert (error.status_code, error.code) == (503, "partner_unavailable")
    assert error.message == "The partner cannot be reached."


def test_a_caller_that_tells_fewer_codes_apart_answers_unavailable_for_the_rest():
    told_apart = (ErrorCode.PARTNER_TIMEOUT,)

    assert partner_error("partner_timeout", told_apart=told_apart).status_code == 504
    assert partner_error("partner_rejected", told_apart=told_apart).status_code == 503


def test_a_run_result_reads_as_before_and_survives_the_trip_to_the_monitor():
    from payments.services.delivery import Detailed, Result

    held = Detailed(Result.HELD, "the IMT breaker is open")
    failed = Detailed(Result.SNAPSHOT_FAILED, Detailed(Result.NOT_SENT, "retry in 1.0 s"))

    assert held == "held: the IMT breaker is open"
    assert failed == "the read before the post failed; not sent: retry in 1.0 s"
    assert pickle.loads(pickle.dumps(held)) == held
    assert pickle.loads(pickle.dumps(held)).result is Result.HELD
    assert Result.POSTED == "posted" and Result.POSTED.result is Result.POSTED
