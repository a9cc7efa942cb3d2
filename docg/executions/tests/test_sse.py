"""SSE over the real web server (the Procfile line) on loopback, with real Redis: replay, resets, heartbeats, auth."""

import pytest
import redis
from django.conf import settings
from django.db import transaction

from docg.executions.event_schema import event_errors
from docg.executions.events import publish_event
from docg.executions.models import WorkflowExecution
from docg.executions.streams import execution_key
from docg.executions.tests import sse_client
from docg.orgs.tenancy import stream_token_issue
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes
from tests.fixtures.cast import api_client_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def execution(cast):
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="wf", nodes=linear_nodes())
    version = workflow_activate(workflow=workflow, by=cast.alice)
    run = WorkflowExecution.objects.create(organization=cast.acme, workflow=workflow, workflow_version=version)
    redis.Redis.from_url(settings.REDIS_URL).delete(execution_key(run.pk))
    return run


def publish(execution, *types: str) -> None:
    with transaction.atomic():
        for event_type in types:
            publish_event(execution, event_type, {"n": event_type})


def url(server, execution, **query) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{server.url}/api/v1/sse/executions/{execution.pk}/stream" + (f"?{params}" if params else "")


def auth(user) -> dict:
    return {"Authorization": api_client_for(user)._credentials["HTTP_AUTHORIZATION"]}


def test_replay_after_disconnect_gives_exactly_the_missed_events(live_server_asgi, cast, execution):
    publish(execution, "execution.created", "execution.status_changed", "step.started")
    first = sse_client.read(
        url(live_server_asgi, execution), headers=auth(cast.alice), stop=lambda s: len(s.events) == 3
    )
    assert [f.event for f in first.events] == ["execution.created", "execution.status_changed", "step.started"]
    assert first.frames[0].retry == settings.SSE_RETRY_MS
    assert all(f.json["event_id"] == f.id for f in first.events)
    assert all(event_errors(f.json) == [] for f in first.events), [event_errors(f.json) for f in first.events]

    publish(execution, "step.completed", "execution.progress", "execution.completed")
    resumed = sse_client.read(
        url(live_server_asgi, execution), headers={**auth(cast.alice), "Last-Event-ID": first.events[1].id}
    )
    assert [f.event for f in resumed.events] == [
        "step.started",
        "step.completed",
        "execution.progress",
        "execution.completed",
    ]
    assert resumed.closed_by_server  # the terminal event ends the stream
    ids = [f.id for f in first.events[:2] + resumed.events]
    assert len(ids) == len(set(ids))


def test_live_events_follow_the_replay_and_heartbeats_flow(live_server_asgi, cast, execution):
    publish(execution, "execution.created")
    seen = sse_client.read(
        url(live_server_asgi, execution),
        headers=auth(cast.alice),
        stop=lambda s: any(f.comment == "heartbeat" for f in s.frames),
    )
    assert [f.event for f in seen.events] == ["execution.created"]

    import threading

    timer = threading.Timer(0.5, publish, args=(execution, "step.started", "execution.failed"))
    timer.start()
    live = sse_client.read(url(live_server_asgi, execution, last_event_id=seen.events[0].id), headers=auth(cast.alice))
    timer.join()
    assert [f.event for f in live.events] == ["step.started", "execution.failed"]
    assert live.closed_by_server


@pytest.mark.parametrize("damage", ["trimmed", "expired", "wrong_epoch"])
def test_old_ids_get_a_reset_with_the_current_state(live_server_asgi, cast, execution, damage):
    publish(execution, "execution.created", "step.started", "step.completed", "execution.progress")
    first = sse_client.read(
        url(live_server_asgi, execution), headers=auth(cast.alice), stop=lambda s: len(s.events) == 4
    )
    last = first.events[0].id
    client = redis.Redis.from_url(settings.REDIS_URL)
    if damage == "trimmed":
        client.xtrim(execution_key(execution.pk), maxlen=2, approximate=False)
    elif damage == "expired":
        client.delete(execution_key(execution.pk))
    else:
        last = "0000dead:" + last.split(":", 1)[1]
    WorkflowExecution.objects.filter(pk=execution.pk).update(progress=40)
    session = sse_client.read(
        url(live_server_asgi, execution),
        headers={**auth(cast.alice), "Last-Event-ID": last},
        stop=lambda s: len(s.events) >= 1,
    )
    reset = session.events[0]
    assert reset.event == "stream.reset"
    assert reset.json["progress"] == 40
    assert reset.json["status"] == "queued"


def test_another_organization_gets_404_before_any_stream(live_server_asgi, cast, execution):
    session = sse_client.read(url(live_server_asgi, execution), headers=auth(cast.charlie))
    assert session.status_code == 404
    anonymous = sse_client.read(url(live_server_asgi, execution))
    assert anonymous.status_code == 401


def test_stream_token_works_and_forged_or_expired_tokens_are_refused(live_server_asgi, cast, execution, monkeypatch):
    publish(execution, "execution.created", "execution.completed")
    response = api_client_for(cast.vera).post(f"/api/v1/executions/{execution.pk}/stream-token")
    assert response.status_code == 200
    token = response.json()["token"]
    ok = sse_client.read(url(live_server_asgi, execution, token=token))
    assert [f.event for f in ok.events] == ["execution.created", "execution.completed"]

    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert sse_client.read(url(live_server_asgi, execution, token=forged)).status_code == 401

    import time

    now = time.time
    monkeypatch.setattr("django.core.signing.time.time", lambda: now() - 3600)
    expired = stream_token_issue(execution=execution, user=cast.alice)
    monkeypatch.undo()
    refused = sse_client.read(url(live_server_asgi, execution, token=expired))
    assert refused.status_code == 401
    assert "expired" in refused.frames[0].data
    assert api_client_for(cast.charlie).post(f"/api/v1/executions/{execution.pk}/stream-token").status_code == 404


def test_health_reports_redis_mode(live_server_asgi):
    import httpx

    assert httpx.get(f"{live_server_asgi.url}/api/v1/sse/health").json() == {
        "status": "ok",
        "redis": "ok",
        "mode": "redis",
    }
