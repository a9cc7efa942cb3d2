import pytest

from docg.workflows.services import workflow_create
from docg.workflows.tests.factories import linear_nodes
from tests.fixtures.cast import PASSWORD

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_with_email_shows_own_workflows_only(client, cast):
    workflow_create(organization=cast.acme, by=cast.alice, name="Acme contract", nodes=linear_nodes())
    workflow_create(organization=cast.globex, by=cast.charlie, name="Globex secret", nodes=linear_nodes())
    response = client.post("/login/", {"username": "alice@example.com", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Acme contract" in page
    assert "Globex secret" not in page


def test_choosing_a_foreign_organization_shows_own_instead(client, cast):
    workflow_create(organization=cast.globex, by=cast.charlie, name="Globex secret", nodes=linear_nodes())
    client.force_login(cast.alice)
    page = client.get(f"/?org={cast.globex.pk}").content.decode()
    assert "Globex secret" not in page
    assert "Acme" in page


def test_wrong_password_shows_error(client, cast):
    response = client.post("/login/", {"username": "alice@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


def test_runs_page_lists_own_runs_with_links_to_the_live_page(client, cast):
    from docg.executions.models import WorkflowExecution
    from docg.workflows.services import workflow_activate

    ours = workflow_create(organization=cast.acme, by=cast.alice, name="Acme contract", nodes=linear_nodes())
    theirs = workflow_create(organization=cast.globex, by=cast.charlie, name="Globex secret", nodes=linear_nodes())
    runs = []
    for workflow, user in ((ours, cast.alice), (theirs, cast.charlie)):
        version = workflow_activate(workflow=workflow, by=user)
        runs.append(
            WorkflowExecution.objects.create(
                organization_id=workflow.organization_id, workflow=workflow, workflow_version=version
            )
        )
    client.force_login(cast.alice)
    page = client.get("/executions/").content.decode()
    assert f"/executions/{runs[0].pk}/" in page
    assert "Globex secret" not in page
    assert client.get(f"/executions/{runs[1].pk}/").status_code == 404
