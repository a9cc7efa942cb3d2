import pytest

from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.event_schema import event_errors
from docg.executions.streams import execution_key, get_streams, public_id
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes
from tests.fixtures.engine import wait_for_status


@pytest.mark.django_db(transaction=True)
def test_every_event_of_a_real_run_matches_schema_v1(cast, worker):
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="wf", nodes=linear_nodes())
    workflow_activate(workflow=workflow, by=cast.alice)
    execution = execution_start(workflow=workflow, trigger_data={"customer": "Ana"}, by=cast.alice)
    wait_for_status(execution.pk, ExecutionStatus.COMPLETED)
    streams = get_streams()
    epoch = streams.epoch()
    entries = streams.read(execution_key(execution.pk))
    events = [{**event, "event_id": public_id(epoch, entry_id)} for entry_id, event in entries]
    assert events[0]["event_type"] == "execution.created"
    assert events[-1]["event_type"] == "execution.completed"
    for event in events:
        assert event_errors(event) == [], event


def test_schema_rejects_what_clients_could_not_rely_on():
    good = {
        "schema_version": 1,
        "event_id": "ab12cd34:1700000000000-0",
        "event_type": "step.started",
        "timestamp": "2026-11-25T10:00:00.123Z",
        "execution_id": "0b9f7c1e-1111-4222-8333-944445555666",
        "workflow_id": "0b9f7c1e-1111-4222-8333-944445555667",
        "organization_id": "0b9f7c1e-1111-4222-8333-944445555668",
        "correlation_id": "0b9f7c1e-1111-4222-8333-944445555669",
        "status": "running",
        "progress": 20,
        "current_step": {"index": 1, "label": "Prepare", "node_key": "prepare", "node_type": "core.set_variables"},
        "data": {},
    }
    assert event_errors(good) == []
    assert event_errors({**good, "event_type": "step.exploded"})
    assert event_errors({**good, "timestamp": "2026-11-25T10:00:00+00:00"})
    assert event_errors({**good, "progress": 101})
    assert event_errors({**good, "extra": True})
    assert event_errors({k: v for k, v in good.items() if k != "correlation_id"})
