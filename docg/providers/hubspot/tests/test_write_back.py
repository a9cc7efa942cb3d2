"""HubSpot write-back actions against the loopback fake: exact paths and payloads, dry runs, refusals."""

import time
from email import message_from_bytes
from email.policy import HTTP

import pytest
from django.core.files.base import ContentFile

from docg.common.errors import DocgError
from docg.connectors.models import DataSourceConnection
from docg.connectors.registry import find_operation
from docg.connectors.runtime import ActionContext
from docg.documents.models import GeneratedDocument
from docg.executions.engine import execution_start
from docg.executions.step_memory import step_memory_of, step_memory_save
from docg.executions.tests.builders import action, active_workflow
from docg.providers.hubspot import handlers_crm

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n% signed\n%%EOF\n"


@pytest.fixture
def connection(cast, provider_api):
    return DataSourceConnection.objects.create(
        organization=cast.acme,
        provider="hubspot",
        name="HubSpot acme",
        config={"portal_id": "62515"},
        credentials={"access_token": "hub-token", "expires_at": time.time() + 1800},
    )


def _context(cast, connection, *, dry_run=False, organization=None):
    workflow = active_workflow(cast, action("noop", "set_variables", parameters={"variables": {}}))
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    return ActionContext(
        execution=execution,
        step=None,
        node={"key": "crm"},
        organization=organization or cast.acme,
        dry_run=dry_run,
        idempotency_key=f"{execution.pk}:crm:1",
        correlation_id=str(execution.correlation_id),
        language="en",
        connection=connection,
    )


def _pdf(organization) -> GeneratedDocument:
    document = GeneratedDocument(organization=organization, name="contract-signed.pdf", content_type="application/pdf")
    document.size_bytes = len(PDF)
    document.file.save("contract-signed.pdf", ContentFile(PDF), save=False)
    document.save()
    return document


def test_the_actions_are_declared_on_the_hubspot_app():
    for name in ("set_properties", "move_deal_stage", "attach_document"):
        assert find_operation("hubspot", "action", name) is not None


def test_set_properties_patches_the_record_with_string_values(cast, connection, provider_api):
    provider_api.on("PATCH", "/hubspot/crm/v3/objects/deals/512", body={"id": "512", "properties": {}})
    ctx = _context(cast, connection)
    params = {"object_type": "deals", "record_id": "512", "properties": {"contract_status": "signed", "amount": 1200}}
    result = handlers_crm.set_properties(ctx, params)
    [call] = provider_api.calls("PATCH", "/hubspot/crm/v3/objects/deals/512")
    assert call.json == {"properties": {"contract_status": "signed", "amount": "1200"}}
    assert call.headers["authorization"] == "Bearer hub-token"
    assert call.headers["x-correlation-id"] == ctx.correlation_id
    assert result.output["id"] == "512"

    provider_api.on("PATCH", "/hubspot/crm/v3/objects/contacts/77", body={"id": "77"})
    handlers_crm.set_properties(
        ctx, {"object_type": "contacts", "record_id": "77", "properties": {"lifecyclestage": None}}
    )
    assert provider_api.calls("PATCH", "/hubspot/crm/v3/objects/contacts/77")[0].json == {
        "properties": {"lifecyclestage": ""}
    }


def test_move_deal_stage_sets_stage_and_pipeline(cast, connection, provider_api):
    provider_api.on("PATCH", "/hubspot/crm/v3/objects/deals/512", body={"id": "512"})
    handlers_crm.move_deal_stage(
        _context(cast, connection), {"deal_id": "512", "stage": "closedwon", "pipeline": "default"}
    )
    [call] = provider_api.calls("PATCH", "/hubspot/crm/v3/objects/deals/512")
    assert call.json == {"properties": {"dealstage": "closedwon", "pipeline": "default"}}


def test_attach_document_uploads_the_file_and_notes_it_on_the_deal(cast, connection, provider_api):
    provider_api.on("POST", "/hubspot/files/v3/files", body={"id": "9001", "name": "contract-signed.pdf"})
    provider_api.on("POST", "/hubspot/crm/v3/objects/notes", status=201, body={"id": "3301"})
    document = _pdf(cast.acme)
    params = {"deal_id": "512", "document_id": str(document.pk), "note": "Signed by every party."}
    result = handlers_crm.attach_document(_context(cast, connection), params)
    assert result.output == {"deal_id": "512", "document_id": str(document.pk), "file_id": "9001", "note_id": "3301"}

    [upload] = provider_api.calls("POST", "/hubspot/files/v3/files")
    content_type = upload.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    parts = {
        p.get_param("name", header="content-disposition"): p
        for p in message_from_bytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + upload.raw, policy=HTTP
        ).iter_parts()
    }
    assert parts["file"].get_payload(decode=True) == PDF
    assert parts["file"].get_filename() == "contract-signed.pdf"
    assert parts["folderPath"].get_payload() == "/docg"
    assert parts["options"].get_payload() == '{"access": "PRIVATE", "overwrite": false}'

    [note] = provider_api.calls("POST", "/hubspot/crm/v3/objects/notes")
    body = note.json
    assert body["properties"]["hs_note_body"] == "Signed by every party."
    assert body["properties"]["hs_attachment_ids"] == "9001"
    assert body["properties"]["hs_timestamp"].endswith("Z")
    assert body["associations"] == [
        {"to": {"id": "512"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}]}
    ]


def test_dry_runs_call_nothing(cast, connection, provider_api):
    ctx = _context(cast, connection, dry_run=True)
    handlers_crm.set_properties(ctx, {"record_id": "512", "properties": {"a": "b"}})
    handlers_crm.move_deal_stage(ctx, {"deal_id": "512", "stage": "closedwon"})
    handlers_crm.attach_document(ctx, {"deal_id": "512", "document_id": str(_pdf(cast.acme).pk)})
    assert provider_api.requests == []


def test_refusals_are_classified_and_bad_ids_never_reach_hubspot(cast, connection, provider_api):
    provider_api.on(
        "PATCH",
        "/hubspot/crm/v3/objects/deals/512",
        status=403,
        body={
            "status": "error",
            "message": "This app hasn't been granted all required scopes.",
            "category": "MISSING_SCOPES",
        },
    )
    ctx = _context(cast, connection)
    with pytest.raises(DocgError) as caught:
        handlers_crm.set_properties(ctx, {"record_id": "512", "properties": {"a": "b"}})
    assert caught.value.code == "hubspot.insufficient_permissions" and not caught.value.transient
    with pytest.raises(DocgError) as caught:
        handlers_crm.set_properties(ctx, {"record_id": "../owners", "properties": {"a": "b"}})
    assert caught.value.code == "hubspot.invalid_record"
    with pytest.raises(DocgError) as caught:
        handlers_crm.attach_document(ctx, {"deal_id": "512", "document_id": str(_pdf(cast.globex).pk)})
    assert caught.value.code == "document.not_found"
    assert [r.path for r in provider_api.requests] == ["/hubspot/crm/v3/objects/deals/512"]


class _HubSpotNotes:
    """A stateful slice of HubSpot: uploads, notes on deals, and the reads a retry uses to find its note."""

    def __init__(self, fake, *, lose_note_answers=0):
        self.files, self.notes, self.lose = [], {}, lose_note_answers
        fake.handle("POST", "/hubspot/files/v3/files", self.upload)
        fake.handle("POST", "/hubspot/crm/v3/objects/notes", self.create_note)
        fake.handle("GET", "/hubspot/crm/v4/objects/deals/512/associations/notes", self.associations)
        fake.handle("POST", "/hubspot/crm/v3/objects/notes/batch/read", self.batch_read)

    def upload(self, request):
        self.files.append(str(9001 + len(self.files)))
        return 201, {"id": self.files[-1]}, {}

    def create_note(self, request):
        note_id = str(3301 + len(self.notes))
        self.notes[note_id] = request.json["properties"]
        if self.lose:  # HubSpot made the note, but its answer never reached docg
            self.lose -= 1
            return 502, {"status": "error", "message": "Bad gateway"}, {}
        return 201, {"id": note_id}, {}

    def associations(self, request):
        return 200, {"results": [{"toObjectId": int(i), "associationTypes": []} for i in self.notes]}, {}

    def batch_read(self, request):
        wanted = [i["id"] for i in request.json["inputs"]]
        return 200, {"results": [{"id": i, "properties": self.notes[i]} for i in wanted if i in self.notes]}, {}


def _step_context(cast, connection, execution):
    """A context as the engine builds it for an attempt of step "crm": its memory outlives the attempt."""
    ctx = _context(cast, connection)
    ctx.execution = execution
    ctx.memory_load = lambda: step_memory_of(execution_id=execution.pk, node_key="crm")
    ctx.memory_save = lambda memory: step_memory_save(execution=execution, node_key="crm", memory=memory)
    return ctx


def test_a_retried_attach_document_never_notes_the_deal_twice(cast, connection, provider_api):
    hubspot = _HubSpotNotes(provider_api)
    document = _pdf(cast.acme)
    params = {"deal_id": "512", "document_id": str(document.pk), "note": "Signed."}
    execution = _context(cast, connection).execution
    first = handlers_crm.attach_document(_step_context(cast, connection, execution), params)
    # The attempt made its note, then died before the step was recorded: a retry (or takeover) runs it again.
    again = handlers_crm.attach_document(_step_context(cast, connection, execution), params)
    assert (
        again.output
        == first.output
        == {
            "deal_id": "512",
            "document_id": str(document.pk),
            "file_id": "9001",
            "note_id": "3301",
        }
    )
    assert list(hubspot.notes) == ["3301"] and hubspot.files == ["9001"]
    assert len(provider_api.calls("POST", "/hubspot/crm/v3/objects/notes")) == 1


def test_a_note_whose_answer_was_lost_is_found_on_the_deal_not_made_again(cast, connection, provider_api):
    hubspot = _HubSpotNotes(provider_api, lose_note_answers=1)
    document = _pdf(cast.acme)
    params = {"deal_id": "512", "document_id": str(document.pk)}
    execution = _context(cast, connection).execution
    with pytest.raises(DocgError) as lost:
        handlers_crm.attach_document(_step_context(cast, connection, execution), params)
    assert lost.value.transient  # the engine retries the step
    retried = handlers_crm.attach_document(_step_context(cast, connection, execution), params)
    assert retried.output["note_id"] == "3301" and retried.output["file_id"] == "9001"
    assert list(hubspot.notes) == ["3301"] and hubspot.files == ["9001"]
    # Another run's step (its own memory) attaches the document again: that is a new note, as asked.
    other = _context(cast, connection).execution
    handlers_crm.attach_document(_step_context(cast, connection, other), params)
    assert len(hubspot.notes) == 2
