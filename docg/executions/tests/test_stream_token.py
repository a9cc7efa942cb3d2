"""POST /api/v1/executions/{id}/stream-token: issued to members of the run's organization only."""

import pytest

from docg.executions.models import WorkflowExecution
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes
from tests.fixtures.cast import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def execution(cast):
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="wf", nodes=linear_nodes())
    version = workflow_activate(workflow=workflow, by=cast.alice)
    return WorkflowExecution.objects.create(organization=cast.acme, workflow=workflow, workflow_version=version)


def test_options_describes_the_route_instead_of_failing(cast, execution):
    # A writer's OPTIONS asks the view for its POST input (a viewer's skips that part).
    for user in (cast.alice, cast.vera):
        response = api_client_for(user).options(f"/api/v1/executions/{execution.pk}/stream-token")
        assert response.status_code == 200, user


def test_another_organization_gets_404(cast, execution):
    assert api_client_for(cast.charlie).post(f"/api/v1/executions/{execution.pk}/stream-token").status_code == 404
