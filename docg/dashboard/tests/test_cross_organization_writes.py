"""Writes act only inside the current organization, with the role the user has there.

A user can be a viewer in one organization and an owner in another; a POST must never
find a row of an organization other than the current one (whose role the view checked).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from docg.connectors.choices import ConnectionStatus
from docg.connectors.services import connection_create
from docg.dashboard.tests.test_approvals import pending
from docg.documents.models import Template
from docg.documents.services import template_create
from docg.documents.tests import corpus
from docg.executions.choices import ApprovalStatus
from docg.executions.models import WorkflowExecution
from docg.orgs.services import organization_create
from docg.workflows.services import workflow_create
from docg.workflows.tests.factories import linear_nodes

pytestmark = pytest.mark.django_db


def _switched_to_own_organization(client, user):
    """`user` also owns 'Zeta' and has made it current."""
    zeta = organization_create(name="Zeta", owner=user)
    client.force_login(user)
    assert client.post("/organization/", {"organization": str(zeta.pk)}).status_code == 302
    return zeta


def test_a_viewer_here_who_owns_another_organization_cannot_write_here(client, cast):
    upload = SimpleUploadedFile("contract.docx", corpus.contract_docx())
    template = template_create(organization=cast.acme, by=cast.alice, name="Contract", upload=upload)
    approval = pending(cast)
    _switched_to_own_organization(client, cast.vera)  # vera is a viewer of Acme

    assert client.post(f"/templates/{template.pk}/delete/").status_code == 404
    assert client.post(f"/approvals/{approval.pk}/decide/", {"decision": "reject"}).status_code == 404
    assert Template.objects.filter(pk=template.pk).exists()
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


def test_a_member_here_who_owns_another_organization_cannot_revoke_a_connection_here(client, cast):
    connection = connection_create(
        organization=cast.acme, by=cast.alice, provider="smtp", name="Mail", credentials={"host": "mail.example.com"}
    )
    _switched_to_own_organization(client, cast.bob)  # bob is a member of Acme: not allowed to revoke
    assert client.post(f"/connections/{connection.pk}/revoke/").status_code == 404
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE


def test_absurdly_deep_json_is_refused_clearly_by_the_editor_and_the_run_form(client, cast):
    client.force_login(cast.alice)
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post("/workflows/new/", deep, content_type="application/json")
    assert response.status_code == 400
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="Flow", nodes=linear_nodes())
    from docg.workflows.services import workflow_activate

    workflow_activate(workflow=workflow, by=cast.alice)
    response = client.post(f"/workflows/{workflow.pk}/run/", {"trigger_data": deep, "action": "start"})
    assert response.status_code == 200  # the form again, with the error beside the field
    assert "nested too deeply" in response.content.decode()
    assert not WorkflowExecution.objects.exists()


def test_members_cannot_start_an_oauth_connection(client, cast):
    client.force_login(cast.bob)
    response = client.get("/oauth/connect/hubspot/")
    assert response.status_code == 302
    assert "hubspot.com" not in response["Location"]
