from datetime import timedelta
from io import StringIO

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from docg.executions.models import WorkflowExecution
from docg.executions.streams import execution_key, get_streams
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes

pytestmark = pytest.mark.django_db


def test_prune_removes_old_finished_and_orphaned_streams_only(cast):
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="wf", nodes=linear_nodes())
    version = workflow_activate(workflow=workflow, by=cast.alice)

    def run(status, finished_ago):
        execution = WorkflowExecution.objects.create(
            organization=cast.acme,
            workflow=workflow,
            workflow_version=version,
            status=status,
            completed_at=timezone.now() - finished_ago if finished_ago else None,
        )
        get_streams().append_many([(execution_key(execution.pk), {"event_type": "execution.created"})])
        return execution

    old = run("completed", timedelta(days=2))
    recent = run("failed", timedelta(minutes=5))
    running = run("running", None)
    orphan_key = execution_key("00000000-0000-0000-0000-000000000001")
    get_streams().append_many([(orphan_key, {"event_type": "execution.created"})])

    out = StringIO()
    call_command("prune_streams", stdout=out)
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert not client.exists(execution_key(old.pk))
    assert not client.exists(orphan_key)
    assert client.exists(execution_key(recent.pk))
    assert client.exists(execution_key(running.pk))
    assert "finished: 1 stream(s) removed" in out.getvalue()
    call_command("prune_streams", stdout=StringIO())  # safe to run again
    assert client.exists(execution_key(running.pk))
    for execution in (recent, running):
        client.delete(execution_key(execution.pk))
