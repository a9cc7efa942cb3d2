"""Wherever a page names who did something, an API key is named "API key: <name>", never by its placeholder e-mail."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from docg.connectors.models import DataSourceConnection
from docg.documents.services import template_create
from docg.documents.tests import corpus
from docg.executions.choices import ApprovalStatus
from docg.executions.models import WorkflowApproval, WorkflowExecution
from docg.executions.tests.builders import APPROVAL, active_workflow
from docg.orgs.api_keys import PRINCIPAL_EMAIL_DOMAIN, api_key_create
from docg.orgs.models import Membership
from docg.orgs.people import person_label
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes

pytestmark = pytest.mark.django_db
NAMED = "API key: Zapier"


@pytest.fixture
def principal(cast):
    owner = Membership.objects.get(organization=cast.acme, user=cast.alice)
    api_key, _raw = api_key_create(organization=cast.acme, by=owner, name="Zapier", role="admin")
    return api_key.user


def _shown(page: str) -> None:
    assert NAMED in page
    assert PRINCIPAL_EMAIL_DOMAIN not in page


def test_one_helper_names_people_by_email_and_keys_by_name(cast, principal):
    assert person_label(cast.alice) == "alice@example.com"
    assert person_label(principal) == NAMED == str(principal)
    assert person_label(None) == ""
    cast.alice.name = "Alice Costa"
    assert person_label(cast.alice, by_name=True) == "Alice Costa"
    assert person_label(principal, by_name=True) == NAMED


def test_connections_templates_and_workflow_versions_made_by_a_key(client, cast, principal):
    DataSourceConnection.objects.create(organization=cast.acme, provider="smtp", name="Mail", created_by=principal)
    upload = SimpleUploadedFile("contract.docx", corpus.contract_docx())
    template = template_create(organization=cast.acme, by=principal, name="Contract", upload=upload)
    workflow = workflow_create(organization=cast.acme, by=principal, name="By key", nodes=linear_nodes())
    workflow_activate(workflow=workflow, by=principal)
    client.force_login(cast.alice)
    _shown(client.get("/connections/").content.decode())
    _shown(client.get(f"/templates/{template.pk}/").content.decode())
    _shown(client.get(f"/workflows/{workflow.pk}/").content.decode())


def test_an_approval_decided_with_a_key(client, cast, principal):
    workflow = active_workflow(cast, APPROVAL, name="Contract flow")
    execution = WorkflowExecution.objects.create(organization=cast.acme, workflow=workflow)
    WorkflowApproval.objects.create(
        organization=cast.acme,
        execution=execution,
        node_key="review",
        status=ApprovalStatus.APPROVED,
        decided_by=principal,
    )
    client.force_login(cast.alice)
    _shown(client.get("/approvals/?tab=decided").content.decode())
