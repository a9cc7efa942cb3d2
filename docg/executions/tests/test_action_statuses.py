"""Statuses that actions set (sending, sent, ready…) follow the table without ever blocking a step."""

import pytest

from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.engine import execution_start
from docg.executions.tests.builders import action, active_workflow
from tests.fixtures.engine import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_deliveries_in_a_row_both_run_once_and_the_run_completes(cast, worker, testkit):
    workflow = active_workflow(
        cast, action("first", "deliver", app="testkit"), action("second", "deliver", app="testkit")
    )
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    done = wait_for_status(execution.pk, ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
    assert done.status == ExecutionStatus.COMPLETED, done.last_error_tech
    assert testkit.counts["deliver"] == 2
    assert list(done.steps.filter(index__gt=0).values_list("status", flat=True)) == [StepStatus.SUCCESS] * 2
