"""Redis numbers entries per stream: two runs' streams can hold the same entry id.

Two streams written in the same millisecond get the same id (`<ms>-0`). Anything
cached by that id alone hands one run's event to the other run's clients, who may
belong to another organization. These tests force the collision with XADD on
real Redis (the embedded backend numbers entries globally and never collides).
"""

import json
import threading
import time

import pytest
import redis
from django.conf import settings

from docg.executions import sse
from docg.executions.events import build_event
from docg.executions.models import WorkflowExecution
from docg.executions.streams import execution_key, get_streams
from docg.executions.tests import sse_client
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes
from tests.fixtures.cast import api_client_for

pytestmark = pytest.mark.django_db(transaction=True)


def _run(organization, owner) -> WorkflowExecution:
    workflow = workflow_create(organization=organization, by=owner, name="wf", nodes=linear_nodes())
    version = workflow_activate(workflow=workflow, by=owner)
    run = WorkflowExecution.objects.create(organization=organization, workflow=workflow, workflow_version=version)
    redis.Redis.from_url(settings.REDIS_URL).delete(execution_key(run.pk))
    return run


@pytest.fixture
def runs(cast):
    """Run A of Acme (read by alice) and run B of Globex (read by charlie)."""
    return {
        "acme": (_run(cast.acme, cast.alice), cast.alice),
        "globex": (_run(cast.globex, cast.charlie), cast.charlie),
    }


def _write_same_ids(executions, ms: int) -> None:
    """`step.started` at `<ms>-0` and `execution.completed` at `<ms>-1` in every run's stream."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    get_streams().epoch()  # the epoch exists before the first entry, as after a normal write
    for seq, event_type in enumerate(("step.started", "execution.completed")):
        for execution in executions:
            event = build_event(execution, event_type, {"run": str(execution.pk)})
            client.xadd(execution_key(execution.pk), {"event": json.dumps(event)}, id=f"{ms}-{seq}")


def _url(server, execution) -> str:
    return f"{server.url}/api/v1/sse/executions/{execution.pk}/stream"


def _auth(user) -> dict:
    return {"Authorization": api_client_for(user)._credentials["HTTP_AUTHORIZATION"]}


def _seen(session) -> list[tuple[str, str, str]]:
    return [(f.event, f.json["execution_id"], f.json["organization_id"]) for f in session.events]


def _expected(execution) -> list[tuple[str, str, str]]:
    owner = (str(execution.pk), str(execution.organization_id))
    return [("step.started", *owner), ("execution.completed", *owner)]


def test_replayed_entries_with_the_same_id_reach_only_their_own_run(live_server_asgi, runs):
    (run_a, alice), (run_b, charlie) = runs["acme"], runs["globex"]
    _write_same_ids([run_a, run_b], int(time.time() * 1000))

    # Same server process, one after the other: the second read must not get the first one's frames.
    first = sse_client.read(_url(live_server_asgi, run_a), headers=_auth(alice))
    second = sse_client.read(_url(live_server_asgi, run_b), headers=_auth(charlie))
    assert _seen(first) == _expected(run_a)
    assert _seen(second) == _expected(run_b)
    assert [f.id for f in first.events] == [f.id for f in second.events]  # the collision did happen


def test_live_entries_with_the_same_id_reach_only_their_own_run(live_server_asgi, runs):
    run_a, run_b = runs["acme"][0], runs["globex"][0]
    sessions: dict = {}
    subscribed = {name: threading.Event() for name in runs}

    def reader(name: str) -> None:
        execution, user = runs[name]

        def stop(session) -> bool:
            subscribed[name].set()  # the `retry:` frame comes once the stream is subscribed
            return False

        try:
            sessions[name] = sse_client.read(_url(live_server_asgi, execution), headers=_auth(user), stop=stop)
        finally:
            subscribed[name].set()

    threads = [threading.Thread(target=reader, args=(name,), daemon=True) for name in runs]
    for thread in threads:
        thread.start()
    assert all(event.wait(10) for event in subscribed.values()), "a stream never opened"
    _write_same_ids([run_a, run_b], int(time.time() * 1000))
    for thread in threads:
        thread.join(15)
    assert not any(thread.is_alive() for thread in threads), "a stream never ended"
    assert _seen(sessions["acme"]) == _expected(run_a)
    assert _seen(sessions["globex"]) == _expected(run_b)


def test_the_frame_cache_is_keyed_by_stream(runs):
    (run_a, _), (run_b, _) = runs["acme"], runs["globex"]
    frames = [
        sse.event_frame(execution_key(run.pk), "e1", "1700000000000-0", build_event(run, "step.started"))
        for run in (run_a, run_b)
    ]
    assert str(run_a.pk).encode() in frames[0] and str(run_b.pk).encode() not in frames[0]
    assert str(run_b.pk).encode() in frames[1] and str(run_a.pk).encode() not in frames[1]
