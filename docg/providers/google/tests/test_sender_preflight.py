"""Preflight asks Gmail whether a step may send as its sender: the account, or an alias Gmail verified."""

import pytest

from docg.executions.preflight import preflight_check
from docg.executions.tests.builders import TRIGGER, action
from docg.providers.google.tests.fake import ERRORS, google_error
from docg.providers.google.tests.helpers import google_connection

pytestmark = pytest.mark.django_db
SEND_AS = "/gmail/v1/users/me/settings/sendAs"


def _mail(connection, **parameters):
    parameters = {"to": "ana@client.example", "subject": "Contract", "body": "Hello", **parameters}
    return action("mail", "send", app="gmail", connection=str(connection.pk), parameters=parameters)


def _check(cast, node, trigger_data=None):
    return preflight_check(organization=cast.acme, nodes=[TRIGGER, node], trigger_data=trigger_data or {})


def _codes(report) -> list[tuple[str, str, str]]:
    return [(i["domain"], i["code"], i["severity"]) for d in report["groups"].values() for i in d]


def _asked(google_api) -> int:
    return len(google_api.calls("GET", SEND_AS))


def test_the_account_itself_or_no_sender_asks_gmail_nothing(cast, google_api):
    connection = google_connection(cast)
    assert _check(cast, _mail(connection))["ok"]
    assert _check(cast, _mail(connection, sender="Acme Contracts <Contracts@acme.example>"))["ok"]
    # A sender only an earlier step decides is checked when the step runs.
    assert _check(cast, _mail(connection, sender="{{ steps.pick.output.sender }}"))["ok"]
    assert _asked(google_api) == 0


def test_a_verified_alias_passes_and_gmail_is_asked_once_a_minute(cast, google_api):
    google_api.send_as.append({"sendAsEmail": "sales@acme.example", "verificationStatus": "accepted"})
    connection = google_connection(cast)
    for _ in range(3):
        assert _check(cast, _mail(connection, sender="{{ trigger.from }}"), {"from": "sales@acme.example"})["ok"]
    assert _asked(google_api) == 1
    [call] = google_api.calls("GET", SEND_AS)
    assert call.headers["authorization"] == "Bearer ya29.test-access-token" and call.headers["x-correlation-id"]
    assert google_api.violations == []


def test_an_address_that_is_not_a_verified_alias_is_refused_with_a_fix(cast, google_api):
    google_api.send_as.append({"sendAsEmail": "pending@acme.example", "verificationStatus": "pending"})
    connection = google_connection(cast)
    for sender in ("pending@acme.example", "ceo@elsewhere.example"):
        report = _check(cast, _mail(connection, sender=sender))
        assert _codes(report) == [("delivery", "delivery.sender_not_allowed", "blocking")]
        [issue] = report["blocking"]
        assert "contracts@acme.example" in issue["message_human"] and issue["location"] == {"parameters": ["sender"]}
        assert [(a["action"], a["node_key"]) for a in report["recommended_actions"]] == [("edit_step", "mail")]
    bad = _check(cast, _mail(connection, sender="not an address"))
    assert _codes(bad) == [("delivery", "delivery.invalid_email", "blocking")]


@pytest.mark.parametrize(
    ("status", "body", "code", "domain", "action"),
    [
        (403, ERRORS["scope"], "permissions.scope_missing", "permissions", "reconnect_provider"),
        (404, google_error(404, "Mail service not enabled", "failedPrecondition", "NOT_FOUND"),
         "delivery.mailbox_missing", "delivery", "reconnect_provider"),
        (401, ERRORS[401], "oauth_expired", "permissions", "reconnect_provider"),
    ],
)  # fmt: skip
def test_gmail_refusing_to_list_the_aliases_blocks_with_a_fix(cast, google_api, status, body, code, domain, action):
    google_api.fail_next(SEND_AS, status, body)
    report = _check(cast, _mail(google_connection(cast), sender="sales@acme.example"))
    assert _codes(report) == [(domain, code, "blocking")]
    assert [a["action"] for a in report["recommended_actions"]] == [action]


def test_gmail_unavailable_only_warns_and_is_asked_again_next_time(cast, google_api):
    google_api.send_as.append({"sendAsEmail": "sales@acme.example", "verificationStatus": "accepted"})
    google_api.fail_next(SEND_AS, 503, ERRORS[503])
    connection = google_connection(cast)
    report = _check(cast, _mail(connection, sender="sales@acme.example"))
    assert report["ok"] and _codes(report) == [("delivery", "delivery.sender_unchecked", "warning")]
    assert _check(cast, _mail(connection, sender="sales@acme.example"))["ok"]
    assert _asked(google_api) == 2
