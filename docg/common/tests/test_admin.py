"""Every registered admin loads, searches and (where allowed) adds; logs and audit stay read-only.

The model-wide tests iterate `admin.site._registry`, so a model registered later
is covered without touching this file.
"""

import json
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.db.models import Model
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from docg.audit.choices import AuditAction
from docg.audit.models import AuditEvent
from docg.audit.services import audit_log
from docg.connectors.models import DataSourceConnection
from docg.documents.models import GeneratedDocument, SignatureRequest, Template
from docg.executions.choices import ExecutionStatus
from docg.executions.models import ExecutionLog, ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.orgs.api_keys import api_key_create
from docg.orgs.members import invitation_create
from docg.orgs.models import ApiKey, Invitation, Membership, Organization, User
from docg.workflows.choices import WorkflowStatus
from docg.workflows.models import Workflow, WorkflowDatastore, WorkflowNode, WorkflowVersion
from tests.fixtures.cast import PASSWORD

SECRET_TOKEN = "ya29.top-secret-access-token"
SIGN_URL = "https://sign.example.com/s/bearer-link-for-the-signer"

# Filled by django.setup() (admin autodiscovery) before pytest collects this module.
REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)
LABELS = [m._meta.label for m in REGISTERED]


def make_objects(organization: Organization, user: User) -> dict[type[Model], Model]:
    """One row of every docg model for `organization`, every foreign key filled."""
    audit = audit_log(
        organization=organization,
        action=AuditAction.WORKFLOW_CREATED,
        actor_type="user",
        actor_id=user.pk,
        target_type="workflow",
        target_id="wf-1",
        metadata={"name": "Contracts"},
    )
    conn = DataSourceConnection.objects.create(
        organization=organization,
        provider="google_drive",
        name="Drive",
        credentials={"access_token": SECRET_TOKEN},
        config={"folder": "root"},
        created_by=user,
    )
    workflow = Workflow.objects.create(organization=organization, name="Contracts", created_by=user)
    node = WorkflowNode.objects.create(
        organization=organization,
        workflow=workflow,
        key="start",
        kind="trigger",
        app="core",
        operation="manual",
        connection=conn,
    )
    version = WorkflowVersion.objects.create(
        organization=organization, workflow=workflow, number=1, definition={"nodes": []}, created_by=user
    )
    workflow.active_version = version
    workflow.save(update_fields=["active_version"])
    datastore = WorkflowDatastore.objects.create(organization=organization, workflow=workflow, key="count", value=1)
    execution = WorkflowExecution.objects.create(
        organization=organization, workflow=workflow, workflow_version=version, triggered_by=user
    )
    step = ExecutionStep.objects.create(organization=organization, execution=execution, node_key="start", index=0)
    log = ExecutionLog.objects.create(
        organization=organization,
        execution=execution,
        step=step,
        timestamp=timezone.now(),
        level="ok",
        domain="step",
        message_human="The trigger fired.",
        correlation_id=execution.correlation_id,
    )
    approval = WorkflowApproval.objects.create(
        organization=organization, execution=execution, step=step, node_key="approve", decided_by=user
    )
    template = Template.objects.create(organization=organization, name="Contract", kind="docx", created_by=user)
    document = GeneratedDocument.objects.create(
        organization=organization,
        execution=execution,
        template=template,
        name="contract.pdf",
        file="documents/contract.pdf",
        content_type="application/pdf",
        size_bytes=2048,
    )
    signature = SignatureRequest.objects.create(
        organization=organization,
        execution=execution,
        document=document,
        provider="docusign",
        signer_name="Sam Signer",
        signer_email="sam@example.com",
        sign_url=SIGN_URL,
    )
    membership = Membership.objects.get(organization=organization, user=user)
    invitation, _token = invitation_create(
        organization=organization, by=membership, email="ivy@example.com", role="member"
    )
    api_key, _key = api_key_create(organization=organization, by=membership, name="Sync", role="member")
    return {
        Organization: organization,
        User: user,
        Membership: membership,
        Invitation: invitation,
        ApiKey: api_key,
        AuditEvent: audit,
        DataSourceConnection: conn,
        Workflow: workflow,
        WorkflowNode: node,
        WorkflowVersion: version,
        WorkflowDatastore: datastore,
        WorkflowExecution: execution,
        ExecutionStep: step,
        ExecutionLog: log,
        WorkflowApproval: approval,
        Template: template,
        GeneratedDocument: document,
        SignatureRequest: signature,
    }


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_superuser(email="staff@example.com", password=PASSWORD)


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def objects(cast) -> dict[type[Model], Model]:
    return make_objects(cast.acme, cast.alice)


def _url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _model_admin(model: type[Model]) -> admin.ModelAdmin:
    return admin.site._registry[model]


def _can_add(model: type[Model], user: User) -> bool:
    request = RequestFactory().get("/admin/")
    request.user = user
    return _model_admin(model).has_add_permission(request)


def _can_change(model: type[Model], user: User, obj: Model) -> bool:
    request = RequestFactory().get("/admin/")
    request.user = user
    return _model_admin(model).has_change_permission(request, obj)


def _row(obj: Model) -> dict[str, Any]:
    return type(obj)._base_manager.filter(pk=obj.pk).values().get()


def _post_data(response) -> dict[str, Any]:
    """The change form as the browser would submit it, unmodified."""
    data: dict[str, Any] = {}

    def add(form) -> None:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = field.prepare_value(form[name].value())
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            if value is True:
                data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif isinstance(value, dict):
                data[key] = json.dumps(value)
            else:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def _errors(response) -> Any:
    if response.context is None:
        return response.content[:500]
    errors: list[Any] = [response.context["adminform"].form.errors]
    errors += [inline.formset.errors for inline in response.context.get("inline_admin_formsets", [])]
    return errors


def test_every_docg_model_is_registered():
    registered = set(REGISTERED)
    missing = [m._meta.label for m in apps.get_models() if m.__module__.startswith("docg.") and m not in registered]
    assert REGISTERED, "the admin registry was empty when the tests were collected"
    assert missing == []


@pytest.mark.parametrize("label", LABELS)
def test_changelist_and_search_load(staff_client, objects, label):
    model = apps.get_model(label)
    url = _url(model, "changelist")
    assert staff_client.get(url).status_code == 200
    assert staff_client.get(url, {"q": "x"}).status_code == 200
    obj = objects.get(model)
    if obj is not None:
        response = staff_client.get(url, {"q": str(obj.pk)})
        assert response.status_code == 200


@pytest.mark.parametrize("label", LABELS)
def test_changelist_queries_do_not_grow_with_rows(staff_client, objects, cast, label):
    model = apps.get_model(label)
    url = _url(model, "changelist")
    with CaptureQueriesContext(connection) as one_set:
        assert staff_client.get(url).status_code == 200
    make_objects(cast.globex, cast.charlie)
    with CaptureQueriesContext(connection) as two_sets:
        assert staff_client.get(url).status_code == 200
    assert len(two_sets) == len(one_set), [q["sql"] for q in two_sets.captured_queries]


@pytest.mark.parametrize("label", LABELS)
def test_change_page_loads(staff_client, objects, label):
    model = apps.get_model(label)
    obj = objects.get(model)
    if obj is None:
        pytest.skip(f"no {label} object is created here")
    response = staff_client.get(_url(model, "change", obj.pk))
    assert response.status_code == 200


@pytest.mark.parametrize("label", LABELS)
def test_change_form_saves_unmodified(staff_client, staff, objects, label):
    model = apps.get_model(label)
    obj = objects.get(model)
    if obj is None:
        pytest.skip(f"no {label} object is created here")
    if not _can_change(model, staff, obj):
        pytest.skip(f"{label} is read-only in the admin")
    url = _url(model, "change", obj.pk)
    response = staff_client.post(url, _post_data(staff_client.get(url)))
    assert response.status_code == 302, _errors(response)


@pytest.mark.parametrize("label", LABELS)
def test_add_page_loads_where_permitted(staff_client, staff, label):
    model = apps.get_model(label)
    expected = 200 if _can_add(model, staff) else 403
    assert staff_client.get(_url(model, "add")).status_code == expected


@pytest.mark.parametrize("model", [AuditEvent, ExecutionLog])
def test_audit_and_logs_are_read_only(staff_client, staff, objects, model):
    obj = objects[model]
    before = _row(obj)
    change_url = _url(model, "change", obj.pk)

    assert staff_client.get(_url(model, "add")).status_code == 403

    page = staff_client.get(change_url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content

    tampered = {"action": "tampered", "message_human": "tampered", "level": "error", "target_id": "x", "hash": "0"}
    assert staff_client.post(change_url, tampered).status_code == 403
    assert _row(obj) == before

    assert staff_client.get(_url(model, "delete", obj.pk)).status_code == 403
    assert staff_client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403

    # No bulk delete either: the changelist offers no actions, and a forged one does nothing.
    request = RequestFactory().get("/admin/")
    request.user = staff
    assert _model_admin(model).get_actions(request) == {}
    staff_client.post(
        _url(model, "changelist"), {"action": "delete_selected", "_selected_action": [str(obj.pk)], "post": "yes"}
    )
    assert _row(obj) == before


def test_execution_status_cannot_be_changed_in_admin(staff_client, staff, objects):
    execution = objects[WorkflowExecution]
    url = _url(WorkflowExecution, "change", execution.pk)

    assert staff_client.get(_url(WorkflowExecution, "add")).status_code == 403
    page = staff_client.get(url)
    assert page.status_code == 200
    assert b'name="status"' not in page.content

    response = staff_client.post(url, {"status": ExecutionStatus.COMPLETED, "progress": "100"})
    assert response.status_code == 403
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.QUEUED
    assert execution.progress == 0


def test_connection_credentials_are_never_shown_and_survive_an_edit(staff_client, objects):
    conn = objects[DataSourceConnection]
    change_url = _url(DataSourceConnection, "change", conn.pk)

    for url in (_url(DataSourceConnection, "changelist"), change_url):
        response = staff_client.get(url)
        assert response.status_code == 200
        assert SECRET_TOKEN.encode() not in response.content
        assert b'name="credentials"' not in response.content
    assert _can_add(DataSourceConnection, User(is_superuser=True, is_active=True, is_staff=True)) is False

    data = _post_data(staff_client.get(change_url))
    assert not any("credentials" in key for key in data)
    data["name"] = "Renamed drive"
    assert staff_client.post(change_url, data).status_code == 302

    conn = DataSourceConnection.objects.get(pk=conn.pk)
    assert conn.name == "Renamed drive"
    assert conn.credentials == {"access_token": SECRET_TOKEN}


def test_signature_link_is_not_shown(staff_client, objects):
    signature = objects[SignatureRequest]
    response = staff_client.get(_url(SignatureRequest, "change", signature.pk))
    assert response.status_code == 200
    assert SIGN_URL.encode() not in response.content


def test_user_add_form_creates_an_email_user(staff_client):
    response = staff_client.post(
        _url(User, "add"),
        {
            "email": "New.Person@Example.com",
            "name": "New Person",
            "usable_password": "true",
            "password1": "a long and unusual passphrase",
            "password2": "a long and unusual passphrase",
        },
    )
    assert response.status_code == 302, _errors(response)
    user = User.objects.get(email="new.person@example.com")
    assert user.name == "New Person"
    assert user.check_password("a long and unusual passphrase")
    assert not user.is_staff


def test_user_add_form_refuses_an_email_that_differs_only_in_case(staff_client, cast):
    response = staff_client.post(
        _url(User, "add"),
        {
            "email": "ALICE@example.com",
            "usable_password": "true",
            "password1": "a long and unusual passphrase",
            "password2": "a long and unusual passphrase",
        },
    )
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert User.objects.filter(email__iexact="alice@example.com").count() == 1


def test_user_change_form_edits_name_and_memberships(staff_client, cast):
    url = _url(User, "change", cast.bob.pk)
    data = _post_data(staff_client.get(url))
    data["name"] = "Robert"
    role_key = next(key for key in data if key.startswith("memberships-") and key.endswith("-role"))
    data[role_key] = "admin"
    assert staff_client.post(url, data).status_code == 302
    cast.bob.refresh_from_db()
    assert cast.bob.name == "Robert"
    assert Membership.objects.get(user=cast.bob, organization=cast.acme).role == "admin"


def _add_node_form(data: dict[str, Any], **fields: str) -> None:
    index = int(data["nodes-TOTAL_FORMS"])
    data["nodes-TOTAL_FORMS"] = str(index + 1)
    for name, value in fields.items():
        data[f"nodes-{index}-{name}"] = value


def test_node_added_inline_takes_the_workflow_organization(staff_client, objects, cast):
    workflow = objects[Workflow]
    url = _url(Workflow, "change", workflow.pk)
    data = _post_data(staff_client.get(url))
    _add_node_form(data, order="1", key="send", kind="action", app="gmail", operation="send", label="Send")
    assert staff_client.post(url, data).status_code == 302
    node = WorkflowNode.objects.get(workflow=workflow, key="send")
    assert node.organization_id == cast.acme.pk


def test_node_cannot_use_another_organizations_connection(staff_client, objects, cast):
    workflow = objects[Workflow]
    foreign = DataSourceConnection.objects.create(organization=cast.globex, provider="gmail", name="Globex mail")
    url = _url(Workflow, "change", workflow.pk)
    data = _post_data(staff_client.get(url))
    _add_node_form(
        data, order="1", key="send", kind="action", app="gmail", operation="send", connection=str(foreign.pk)
    )
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert not WorkflowNode.objects.filter(workflow=workflow, key="send").exists()


def test_workflow_organization_is_fixed_after_creation(staff_client, objects, cast):
    workflow = objects[Workflow]
    url = _url(Workflow, "change", workflow.pk)
    data = _post_data(staff_client.get(url))
    assert "organization" not in data
    data["organization"] = str(cast.globex.pk)
    assert staff_client.post(url, data).status_code == 302
    workflow.refresh_from_db()
    assert workflow.organization_id == cast.acme.pk


def test_deactivate_action_goes_through_the_service(staff_client, objects):
    workflow = objects[Workflow]
    response = staff_client.post(
        _url(Workflow, "changelist"), {"action": "deactivate_workflows", "_selected_action": [str(workflow.pk)]}
    )
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.status == WorkflowStatus.INACTIVE
    assert AuditEvent.objects.filter(action=AuditAction.WORKFLOW_DEACTIVATED, target_id=str(workflow.pk)).exists()


def test_activate_action_reports_an_invalid_graph_without_activating(staff_client, objects):
    workflow = objects[Workflow]
    response = staff_client.post(
        _url(Workflow, "changelist"),
        {"action": "activate_workflows", "_selected_action": [str(workflow.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert any(m.level_tag == "error" for m in response.context["messages"])
    workflow.refresh_from_db()
    assert workflow.status == WorkflowStatus.DRAFT
    assert workflow.versions.count() == 1


def test_deleting_a_workflow_in_admin_is_audited(staff_client, cast):
    workflow = Workflow.objects.create(organization=cast.acme, name="Scratch")
    response = staff_client.post(_url(Workflow, "delete", workflow.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Workflow.objects.filter(pk=workflow.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.WORKFLOW_DELETED, target_id=str(workflow.pk)).exists()


def test_revoke_action_forgets_the_credential_and_audits(staff_client, objects):
    conn = objects[DataSourceConnection]
    response = staff_client.post(
        _url(DataSourceConnection, "changelist"),
        {"action": "revoke_connections", "_selected_action": [str(conn.pk)]},
    )
    assert response.status_code == 302
    conn = DataSourceConnection.objects.get(pk=conn.pk)
    assert conn.status == "revoked"
    assert conn.credentials == {}
    assert AuditEvent.objects.filter(action=AuditAction.CONNECTION_REVOKED, target_id=str(conn.pk)).exists()


def test_deleting_a_template_in_admin_is_audited(staff_client, cast):
    template = Template.objects.create(organization=cast.acme, name="Scratch", kind="docx")
    response = staff_client.post(_url(Template, "delete", template.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Template.objects.filter(pk=template.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.TEMPLATE_DELETED, target_id=str(template.pk)).exists()
