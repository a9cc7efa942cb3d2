"""The signature domain of preflight for e-signature steps: signers, connection, the document to sign."""

import pytest

from docg.connectors.choices import ConnectionStatus
from docg.connectors.models import DataSourceConnection
from docg.executions.preflight import preflight_check
from docg.executions.tests.builders import PREPARE, TRIGGER, action
from docg.providers.clicksign.tests import helpers
from docg.providers.clicksign.tests.helpers import SIGNERS, connection, pdf_document

pytestmark = pytest.mark.django_db


def _check(cast, *nodes, trigger_data=None):
    trigger_data = {"number": "7", **(trigger_data or {})}
    return preflight_check(organization=cast.acme, nodes=[TRIGGER, *nodes], trigger_data=trigger_data)


def node(conn, document, **extra):
    """The ClickSign step as a stored definition holds it: the connection by id."""
    return {**helpers.node(conn, document, **extra), "connection": str(conn.pk)}


def _codes(report, domain="signature"):
    return [i["code"] for i in report["groups"][domain]]


def test_a_complete_signature_step_passes(cast):
    report = _check(cast, node(connection(cast), pdf_document(cast.acme)))
    assert report["ok"], report["blocking"]
    assert report["groups"]["signature"] == []


def test_signers_are_checked_once_expressions_are_resolved(cast):
    signers = [
        {"name": "{{ trigger.client.name }}", "email": "{{ trigger.client.email }}"},
        {"name": "Bruno", "email": "bruno at client"},
    ]
    step = node(connection(cast), pdf_document(cast.acme), signers=signers)
    report = _check(cast, step, trigger_data={"client": {"name": "Ana", "email": "ana@client"}})
    invalid = [i for i in report["groups"]["signature"] if i["code"] == "signature.invalid_signer"]
    assert [i["location"]["parameters"] for i in invalid] == [["signers[0]"], ["signers[1]"]]
    assert "needs a name and a valid e-mail" in invalid[0]["message_human"]
    [fix] = [a for a in report["recommended_actions"] if a["code"] == "signature.invalid_signer"]
    assert fix["action"] == "edit_step" and fix["endpoint"] == "/api/v1/workflows" and fix["node_key"] == "sign"

    # Every signer resolving to nothing: nobody would sign.
    empty = [{"name": "{{ trigger.nobody }}", "email": "{{ trigger.nobody }}"}]
    report = _check(cast, node(connection(cast), pdf_document(cast.acme), signers=empty), trigger_data={"nobody": ""})
    assert "signature.no_signers" in _codes(report) and not report["ok"]


def test_signers_an_earlier_step_decides_wait_for_the_run(cast):
    signers = [{"name": "{{ steps.prepare.output.name }}", "email": "{{ steps.prepare.output.email }}"}]
    report = _check(cast, PREPARE, node(connection(cast), pdf_document(cast.acme), signers=signers))
    assert _codes(report) == []


def test_the_document_must_come_from_an_earlier_step(cast):
    conn = connection(cast)
    later = node(conn, pdf_document(cast.acme), document_id="{{ steps.render.output.document_id }}")
    render = action("render", "set_variables", parameters={"variables": {}})
    assert _codes(_check(cast, render, later)) == []
    assert _codes(_check(cast, later, render)) == ["signature.document_missing"]
    assert _codes(_check(cast, node(conn, pdf_document(cast.acme), document_id="{{ trigger.doc }}"))) == [
        "signature.document_missing"
    ]
    unknown = node(conn, pdf_document(cast.acme), document_id="6d3f0c55-8b1e-4a57-9a0e-3b8f3f0f1a11")
    report = _check(cast, unknown)
    assert _codes(report) == ["signature.document_missing"]
    assert report["recommended_actions"][0]["action"] == "edit_step"


def test_another_organizations_document_is_unknown(cast):
    report = _check(cast, node(connection(cast), pdf_document(cast.globex)))
    assert _codes(report) == ["signature.document_missing"]


def test_the_connection_must_be_an_active_clicksign_one(cast):
    conn = connection(cast)
    DataSourceConnection.objects.filter(pk=conn.pk).update(status=ConnectionStatus.REVOKED)
    report = _check(cast, node(conn, pdf_document(cast.acme)))
    assert "connection.inactive" in _codes(report)
    assert any(a["action"] == "reconnect_provider" for a in report["recommended_actions"])

    google = DataSourceConnection.objects.create(organization=cast.acme, provider="google", name="Drive")
    report = _check(cast, node(google, pdf_document(cast.acme)))
    [issue] = report["groups"]["signature"]
    assert issue["code"] == "connection.inactive" and "not ClickSign" in issue["message_human"]
    step = node(conn, pdf_document(cast.acme))
    step.pop("connection")
    assert "connection.inactive" in _codes(_check(cast, step))
    assert SIGNERS  # the helpers' signers are valid, so only the connection is reported above
