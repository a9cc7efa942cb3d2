"""End to end, on real worker threads and loopback fakes of the three providers:

HubSpot deal webhook → google_docs.fill_document → clicksign.create_envelope → both
signers sign (ClickSign webhooks) → gmail.send → `completed`.

Everything the outside world would see is checked: what each provider's API was
sent (with the run's X-Correlation-ID), the run's live event stream, its audit
rows (and the organization's unbroken audit chain), the e-mail and the signed PDF.
"""

import json
import time
from io import StringIO

import pytest
from django.core.management import call_command

from docg.audit.models import AuditEvent
from docg.connectors.services import connection_create
from docg.connectors.tests.provider_fake import provider_api  # noqa: F401
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.models import WorkflowExecution
from docg.executions.streams import execution_key, get_streams
from docg.providers.clicksign.tests.fake import SIGNED_PDF, clicksign_api  # noqa: F401
from docg.providers.clicksign.tests.fake import TOKEN as CLICKSIGN_TOKEN
from docg.providers.clicksign.tests.helpers import event as clicksign_event
from docg.providers.clicksign.tests.helpers import hook as clicksign_hook
from docg.providers.google.tests.fake import DOC_MIME, google_api  # noqa: F401
from docg.providers.google.tests.helpers import FOLDER, google_connection
from docg.providers.hubspot import webhooks as hubspot_webhooks
from docg.workflows.models import WebhookDelivery
from docg.workflows.services import workflow_activate, workflow_create
from tests.fixtures.engine import wait_for_status, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HUBSPOT_SECRET = "hubspot-app-client-secret"
PUBLIC_URL = "https://docg.example.com"
PORTAL = 62515
DEAL = 9001
TEMPLATE = "1TmplDealContract"
CONTACTS = {
    "801": {"firstname": "Ana", "lastname": "Souza", "email": "ana@client.example"},
    "802": {"firstname": "Bruno", "lastname": "Lima", "email": "bruno@client.example"},
}
EXPECTED_TEXT = "Contract Acme renewal for Acme Ltda, total 12500.00, attention Ana Souza."


@pytest.fixture
def fakes(settings, provider_api, google_api, clicksign_api):  # noqa: F811
    """The three fakes, each provider's API root pointed at its own (provider_api also claims Google's roots)."""
    settings.CONNECTOR_API_ROOTS = {
        **settings.CONNECTOR_API_ROOTS,
        "hubspot": provider_api.url + "/hubspot",
        **dict.fromkeys(("google_docs", "google_slides", "google_drive", "gmail", "google_forms"), google_api.url),
        "clicksign": clicksign_api.url,
    }
    settings.HUBSPOT_WEBHOOK_SECRET = HUBSPOT_SECRET
    settings.HUBSPOT_WEBHOOK_BASE_URL = PUBLIC_URL
    settings.STEP_RETRY_BASE_SECONDS = 0.05
    _hubspot_crm(provider_api)
    google_api.add_file(
        TEMPLATE,
        name="Deal contract",
        mime=DOC_MIME,
        text="Contract {{deal}} for {{company}}, total {{total}}, attention {{contact}}.",
    )
    # Preflight asks Drive whether the destination folder exists and may be written to.
    google_api.add_file(FOLDER, name="Contracts", mime="application/vnd.google-apps.folder")
    return provider_api, google_api, clicksign_api


def _hubspot_crm(fake) -> None:
    """The deal, its associations (v4) and the batch reads (v3), as HubSpot documents them."""
    fake.on(
        "GET",
        f"/hubspot/crm/v3/objects/deals/{DEAL}",
        body={
            "id": str(DEAL),
            "properties": {
                "dealname": "Acme renewal",
                "amount": "12500.00",
                "dealstage": "contractsent",
                "pipeline": "default",
            },
            "createdAt": "2026-01-02T10:00:00Z",
            "updatedAt": "2026-01-03T10:00:00Z",
            "archived": False,
        },
    )
    for to_type, ids in (("contacts", list(CONTACTS)), ("companies", ["301"]), ("line_items", [])):
        fake.on(
            "GET",
            f"/hubspot/crm/v4/objects/deals/{DEAL}/associations/{to_type}",
            body={
                "results": [
                    {"toObjectId": int(i), "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3}]}
                    for i in ids
                ]
            },
        )

    def batch(records):
        def answer(request):
            results = [{"id": i["id"], "properties": records[i["id"]]} for i in request.json["inputs"]]
            return 200, {"status": "COMPLETE", "results": results}, {}

        return answer

    fake.handle("POST", "/hubspot/crm/v3/objects/contacts/batch/read", batch(CONTACTS))
    fake.handle("POST", "/hubspot/crm/v3/objects/companies/batch/read", batch({"301": {"name": "Acme Ltda"}}))


@pytest.fixture
def flow(cast, fakes):
    """The org's three connections and the active workflow: deal → Google Doc → ClickSign → Gmail."""
    hubspot = connection_create(
        organization=cast.acme,
        by=cast.alice,
        provider="hubspot",
        name="HubSpot (Acme)",
        credentials={"access_token": "hub-token", "refresh_token": "hub-refresh", "expires_at": time.time() + 1800},
        account={"portal_id": str(PORTAL)},  # what HubSpot's token answer says at connect time
    )
    google = google_connection(cast)
    clicksign = connection_create(
        organization=cast.acme,
        by=cast.alice,
        provider="clicksign",
        name="ClickSign",
        credentials={"access_token": CLICKSIGN_TOKEN, "webhook_secret": "cs-hmac-secret-0123456789abcdef"},
    )
    contact = "trigger.contacts[{}].properties"
    nodes = [
        {
            "key": "deal",
            "kind": "trigger",
            "app": "hubspot",
            "operation": "deal_event",
            "connection": hubspot,
            "parameters": {"subscription_types": ["deal.propertyChange"], "stages": ["contractsent"]},
        },
        {
            "key": "fill",
            "kind": "action",
            "app": "google_docs",
            "operation": "fill_document",
            "connection": google,
            "parameters": {
                "template_file_id": TEMPLATE,
                "folder_id": FOLDER,
                "name": "Contract {{ trigger.deal.properties.dealname }}",
                "replacements": {
                    "deal": "{{ trigger.deal.properties.dealname }}",
                    "company": "{{ trigger.company.properties.name }}",
                    "total": "{{ trigger.deal.properties.amount }}",
                    "contact": f"{{{{ {contact.format(0)}.firstname }}}} {{{{ {contact.format(0)}.lastname }}}}",
                },
            },
        },
        {
            "key": "sign",
            "kind": "action",
            "app": "clicksign",
            "operation": "create_envelope",
            "connection": clicksign,
            "parameters": {
                "document_id": "{{ steps.fill.document_id }}",
                "name": "{{ trigger.deal.properties.dealname }}",
                "signers": [
                    {
                        "name": f"{{{{ {contact.format(i)}.firstname }}}} {{{{ {contact.format(i)}.lastname }}}}",
                        "email": f"{{{{ {contact.format(i)}.email }}}}",
                    }
                    for i in (0, 1)
                ],
            },
        },
        {
            "key": "mail",
            "kind": "action",
            "app": "gmail",
            "operation": "send",
            "connection": google,
            "parameters": {
                "to": f"{{{{ {contact.format(0)}.email }}}}",
                "subject": "Your contract: {{ trigger.deal.properties.dealname }}",
                "body": f"Hello {{{{ {contact.format(0)}.firstname }}}}, everyone signed; the contract is attached.",
                "attachments": ["{{ steps.fill.document_id }}"],
            },
        },
    ]
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="Deal to signed contract", nodes=nodes)
    workflow_activate(workflow=workflow, by=cast.alice)
    return workflow, clicksign


def _deal_webhook(client, event_id: int = 7001):
    """POST /hooks/hubspot/ as HubSpot does: a JSON array of events, signed with v3 over the public URL."""
    events = [
        {
            "eventId": event_id,
            "subscriptionId": 11,
            "portalId": PORTAL,
            "appId": 999,
            "occurredAt": int(time.time() * 1000),
            "subscriptionType": "deal.propertyChange",
            "attemptNumber": 0,
            "objectId": DEAL,
            "propertyName": "dealstage",
            "propertyValue": "contractsent",
            "changeSource": "CRM_UI",
        }
    ]
    body = json.dumps(events).encode()
    timestamp = str(int(time.time() * 1000))
    signature = hubspot_webhooks.signature_v3(
        secret=HUBSPOT_SECRET, method="POST", uri=f"{PUBLIC_URL}/hooks/hubspot/", body=body, timestamp=timestamp
    )
    return client.post(
        "/hooks/hubspot/",
        body,
        content_type="application/json",
        headers={"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp},
    )


def _the_run(workflow) -> WorkflowExecution:
    return wait_until(
        lambda: WorkflowExecution.objects.filter(workflow=workflow).first(), timeout=30, what="the deal's run"
    )


def _events(execution) -> list[tuple[str, str]]:
    return [(event["event_type"], event["status"]) for _, event in get_streams().read(execution_key(execution.pk))]


def test_a_deal_webhook_ends_with_a_signed_contract_mailed_to_the_contact(cast, worker, client, flow, fakes):
    hubspot_fake, google_fake, clicksign_fake = fakes
    workflow, clicksign = flow

    accepted = _deal_webhook(client)
    assert accepted.status_code == 200 and accepted.json() == {"queued": 1, "duplicates": 0, "ignored": 0}
    run = _the_run(workflow)
    run = wait_for_status(run.pk, ExecutionStatus.SIGNING, ExecutionStatus.FAILED, timeout=60)
    assert run.status == ExecutionStatus.SIGNING, (run.last_error_code, run.last_error_human)
    correlation = str(run.correlation_id)

    # The trigger data is the deal enriched through CRM v3 objects / v4 associations.
    assert run.trigger_data["deal"]["properties"]["dealname"] == "Acme renewal"
    assert [c["properties"]["email"] for c in run.trigger_data["contacts"]] == [
        "ana@client.example",
        "bruno@client.example",
    ]

    # Google: the template was copied into the folder, filled, exported; the PDF is the run's document.
    [copy] = google_fake.calls("POST", rf"/drive/v3/files/{TEMPLATE}/copy")
    assert copy.json()["parents"] == [FOLDER] and copy.json()["name"] == "Contract Acme renewal"
    [copy_id] = [f["id"] for f in google_fake.files.values() if f["id"] not in (TEMPLATE, FOLDER)]
    [export] = google_fake.calls("GET", r"/drive/v3/files/.+/export")
    assert export.path == f"/drive/v3/files/{copy_id}/export" and export.query["mimeType"] == "application/pdf"
    generated = GeneratedDocument.objects.get(execution=run, node_key="fill")
    assert generated.name == "Contract Acme renewal.pdf"
    with generated.file.open("rb") as handle:
        pdf = handle.read()
    assert pdf.startswith(b"%PDF") and EXPECTED_TEXT.encode() in pdf

    # ClickSign: one envelope holding exactly that PDF, one signer per deal contact, activated and notified.
    [envelope] = clicksign_fake.envelopes.values()
    [(document_key, sent_pdf)] = envelope["documents"].items()
    assert sent_pdf == pdf
    assert envelope["attributes"]["status"] == "running" and envelope["notified"] == 1
    signers = {attributes["email"]: signer_id for signer_id, attributes in envelope["signers"].items()}
    assert sorted(signers) == ["ana@client.example", "bruno@client.example"]
    assert {a["name"] for a in envelope["signers"].values()} == {"Ana Souza", "Bruno Lima"}
    assert google_fake.sent == []

    # Both signers sign: ClickSign calls back once per signature, with Content-Hmac.
    for email, last in (("ana@client.example", False), ("bruno@client.example", True)):
        body = clicksign_event("sign", document_key, signer={"key": signers[email], "email": email})
        answer = clicksign_hook(clicksign, body, secret=clicksign.credentials["webhook_secret"])
        assert answer.status_code == 200, answer.content
        assert len(answer.json()["changed"]) == 1 and answer.json()["completed"] is last
        if not last:  # one signature of two: the run still waits, nothing is mailed
            assert WorkflowExecution.objects.get(pk=run.pk).status == ExecutionStatus.SIGNING
            assert google_fake.sent == []

    done = wait_for_status(run.pk, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, timeout=60)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)
    assert done.progress == 100
    assert sorted(SignatureRequest.objects.filter(execution=done).values_list("status", flat=True)) == [
        "signed",
        "signed",
    ]

    # Gmail: one raw MIME message to the first contact, the generated PDF attached.
    [sent] = google_fake.sent
    message = sent["message"]
    assert message["To"] == "ana@client.example"
    assert message["Subject"] == "Your contract: Acme renewal"
    assert message["X-Correlation-ID"] == correlation
    assert "Hello Ana, everyone signed" in message.get_body(("plain",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Contract Acme renewal.pdf"
    assert attachment.get_content() == pdf

    # The signed PDF is fetched from ClickSign after the last signature and kept with the run.
    signed = wait_until(
        lambda: GeneratedDocument.objects.filter(execution=done, name="Contract Acme renewal-signed.pdf").first(),
        timeout=30,
        what="the signed PDF",
    )
    with signed.file.open("rb") as handle:
        assert handle.read() == SIGNED_PDF
    assert {r.provider_data["signed_document_id"] for r in SignatureRequest.objects.filter(execution=done)} == {
        str(signed.pk)
    }
    assert clicksign_fake.requests[-1].path.startswith(f"/files/{document_key}-signed.pdf")

    # The live stream, in order: each event with the run's status when it was published.
    assert _events(done) == [
        ("execution.created", "queued"),
        ("preflight.completed", "queued"),
        ("execution.status_changed", "running"),
        ("execution.progress", "running"),
        ("step.started", "running"),  # fill
        ("log.appended", "running"),  # the PDF is stored
        ("step.completed", "ready"),
        ("execution.progress", "ready"),
        ("step.started", "ready"),  # sign
        ("signature.requested", "ready"),
        ("signature.requested", "ready"),
        ("step.completed", "signing"),  # the step waits for the signers
        ("signature.signed", "signing"),
        ("signature.signed", "signing"),
        ("signature.completed", "signing"),
        ("execution.status_changed", "signed"),
        ("execution.progress", "signed"),
        ("step.started", "sending"),  # mail
        ("step.completed", "sent"),
        ("execution.completed", "completed"),
    ]
    stream = [event for _, event in get_streams().read(execution_key(done.pk))]
    assert [e["data"]["signer_email"] for e in stream if e["event_type"] == "signature.signed"] == [
        "ana@client.example",
        "bruno@client.example",
    ]
    assert stream[-1]["progress"] == 100
    assert {e["correlation_id"] for e in stream} == {correlation}

    # The audit trail of the run, in order; every row carries the run's correlation id.
    rows = list(AuditEvent.objects.filter(event_metadata__correlation_id=correlation).order_by("sequence"))
    run_rows = [r for r in rows if r.target_id != str(signed.pk)]
    assert [r.action for r in run_rows] == [
        "execution.started",
        "document.generated",
        "document.saved",
        "signature.requested",
        "signature.requested",
        "signature.signed",
        "signature.signed",
        "document.sent",
        "execution.completed",
    ]
    assert {r.actor_type for r in run_rows if r.action in ("execution.started", "signature.signed")} == {"webhook"}
    assert {r.target_id for r in run_rows if r.action.startswith("document.")} == {str(generated.pk)}
    requests = {str(pk) for pk in SignatureRequest.objects.filter(execution=done).values_list("pk", flat=True)}
    assert {r.target_id for r in run_rows if r.action.startswith("signature.")} == requests
    # The signed PDF has its own rows (fetched after the run moved on, so they may come before `document.sent`).
    signed_rows = AuditEvent.objects.filter(target_id=str(signed.pk)).order_by("sequence")
    assert [r.action for r in signed_rows] == ["document.generated", "document.saved"]
    assert signed_rows[0].event_metadata["execution_id"] == str(done.pk)
    assert [r.event_metadata["correlation_id"] for r in signed_rows] == [correlation, correlation]
    # `manage.py verify_audit` recomputes the hash chain: nothing was altered, inserted or lost.
    output = StringIO()
    call_command("verify_audit", stdout=output)
    assert output.getvalue().startswith("OK:")

    # Every call any provider saw carried the run's correlation id: the deal fetch before the run existed too,
    # and the signed file's download from ClickSign's storage (which gets no API token).
    seen = {
        "hubspot": [r.headers.get("x-correlation-id") for r in hubspot_fake.requests],
        "google": [r.headers.get("x-correlation-id") for r in google_fake.requests],
        "clicksign": [r.headers.get("x-correlation-id") for r in clicksign_fake.requests],
    }
    downloads = [r for r in clicksign_fake.requests if not r.path.startswith("/api/v3/")]
    assert len(downloads) == 1 and "authorization" not in {k.lower() for k in downloads[0].headers}
    assert {name: set(ids) for name, ids in seen.items()} == {name: {correlation} for name in seen}
    assert len(seen["hubspot"]) == 6 and google_fake.violations == []


def test_a_replayed_hubspot_delivery_starts_no_second_run(cast, worker, client, flow, fakes):
    hubspot_fake, _, clicksign_fake = fakes
    workflow, _ = flow
    assert _deal_webhook(client).json()["queued"] == 1
    # HubSpot retries the same event (same eventId) while the first delivery is being processed.
    replay = _deal_webhook(client)
    assert replay.status_code == 200
    assert replay.json() == {"queued": 0, "duplicates": 1, "ignored": 0}
    run = wait_for_status(_the_run(workflow).pk, ExecutionStatus.SIGNING, ExecutionStatus.FAILED, timeout=60)
    assert run.status == ExecutionStatus.SIGNING
    assert WorkflowExecution.objects.filter(workflow=workflow).count() == 1
    assert WebhookDelivery.objects.filter(workflow=workflow).count() == 1
    assert len(hubspot_fake.calls("GET", f"/hubspot/crm/v3/objects/deals/{DEAL}")) == 1
    assert len(clicksign_fake.envelopes) == 1
