"""Django's requests through the real web server (the Procfile line), served on its fixed pool of threads."""

import asyncio
import csv
import io

import httpx
import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from docg.executions.models import WorkflowExecution
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def runs(cast):
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="wf", nodes=linear_nodes())
    version = workflow_activate(workflow=workflow, by=cast.alice)
    return WorkflowExecution.objects.bulk_create(
        WorkflowExecution(organization=cast.acme, workflow=workflow, workflow_version=version, trigger_data={"n": n})
        for n in range(300)
    )


def headers(cast) -> dict:
    return {"Authorization": f"Bearer {RefreshToken.for_user(cast.alice).access_token}"}


def test_a_streamed_export_arrives_whole_through_the_server(live_server_asgi, cast, runs):
    response = httpx.get(f"{live_server_asgi.url}/api/v1/executions/export.csv", headers=headers(cast), timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert {row[0] for row in rows[1:]} == {str(run.pk) for run in runs}


def test_more_concurrent_requests_than_threads_all_get_their_answer(live_server_asgi, cast, runs):
    wanted = runs[:60]  # more than WEB_THREADS and than the database pool's connections
    signed_in = headers(cast)

    async def read_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live_server_asgi.url, headers=signed_in, timeout=60) as client:
            return await asyncio.gather(*(client.get(f"/api/v1/executions/{run.pk}") for run in wanted))

    answers = asyncio.run(read_all())
    assert [a.status_code for a in answers] == [200] * len(wanted)
    assert [a.json()["id"] for a in answers] == [str(run.pk) for run in wanted]


def test_a_request_body_reaches_the_view_and_errors_keep_their_shape(live_server_asgi, cast):
    response = httpx.post(
        f"{live_server_asgi.url}/api/v1/workflows", headers=headers(cast), json={"name": ""}, timeout=30
    )
    assert response.status_code == 400
    assert "name" in str(response.json())
