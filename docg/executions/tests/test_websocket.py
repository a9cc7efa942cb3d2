"""The websocket carries the same events as SSE, with the same auth and replay rule."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db import transaction

from config.asgi import application
from docg.executions.events import publish_event
from docg.executions.models import WorkflowExecution
from docg.orgs.tenancy import stream_token_issue
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def execution(cast):
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="wf", nodes=linear_nodes())
    version = workflow_activate(workflow=workflow, by=cast.alice)
    run = WorkflowExecution.objects.create(organization=cast.acme, workflow=workflow, workflow_version=version)
    with transaction.atomic():
        for event_type in ("execution.created", "step.started", "execution.completed"):
            publish_event(run, event_type)
    return run


@async_to_sync
async def _receive_all(path: str) -> tuple[bool, int | None, list[dict]]:
    communicator = WebsocketCommunicator(application, path)
    connected, code = await communicator.connect(timeout=10)
    messages = []
    if connected:
        while True:
            message = await communicator.receive_output(timeout=10)
            if message["type"] == "websocket.close":
                break
            messages.append(json.loads(message["text"]))
    await communicator.disconnect()
    return connected, code, messages


def test_events_replay_and_close_after_terminal(cast, execution):
    token = stream_token_issue(execution=execution, user=cast.alice)
    connected, _, messages = _receive_all(f"/ws/executions/{execution.pk}/?token={token}")
    assert connected
    assert [m["type"] for m in messages] == ["execution.created", "step.started", "execution.completed"]
    assert all(m["data"]["event_id"] == m["id"] for m in messages)

    _, _, resumed = _receive_all(f"/ws/executions/{execution.pk}/?token={token}&last_event_id={messages[0]['id']}")
    assert [m["type"] for m in resumed] == ["step.started", "execution.completed"]


def test_another_organization_or_no_auth_is_refused_before_accept(cast, execution):
    from docg.workflows.services import workflow_create as create

    theirs = create(organization=cast.globex, by=cast.charlie, name="x", nodes=linear_nodes())
    other_run = WorkflowExecution.objects.create(
        organization=cast.globex, workflow=theirs, workflow_version=execution.workflow_version
    )
    token = stream_token_issue(execution=other_run, user=cast.charlie)
    connected, code, _ = _receive_all(f"/ws/executions/{execution.pk}/?token={token}")
    assert (connected, code) == (False, 4401)
    connected, code, _ = _receive_all(f"/ws/executions/{execution.pk}/")
    assert (connected, code) == (False, 4401)
    connected, code, _ = _receive_all(f"/ws/executions/{execution.pk}/?token=forged")
    assert (connected, code) == (False, 4401)


def test_the_production_web_server_carries_the_websocket(cast, execution, live_server_asgi):
    """The same replay through the Procfile's web line (uvicorn's websocket protocol), not an in-process stub."""
    from websockets.sync.client import connect

    token = stream_token_issue(execution=execution, user=cast.alice)
    url = live_server_asgi.url.replace("http://", "ws://") + f"/ws/executions/{execution.pk}/?token={token}"
    types = []
    with connect(url, open_timeout=10, close_timeout=5) as socket:
        for text in socket:  # the server closes after the terminal event
            types.append(json.loads(text)["type"])
    assert types == ["execution.created", "step.started", "execution.completed"]
