import pytest

from docg.executions.choices import ExecutionStatus as S
from docg.executions.models import WorkflowExecution
from docg.executions.state import (
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    TransitionConflict,
    execution_transition,
)
from docg.workflows.services import workflow_create
from docg.workflows.tests.factories import linear_nodes

pytestmark = pytest.mark.django_db


@pytest.fixture
def execution(cast):
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="wf", nodes=linear_nodes())
    return WorkflowExecution.objects.create(organization=cast.acme, workflow=workflow)


def test_table_covers_all_twelve_statuses_and_terminals_are_final():
    assert set(TRANSITIONS) == set(S.values)
    assert len(TRANSITIONS) == 12
    for status in TERMINAL:
        assert TRANSITIONS[status] == frozenset()


def test_legal_transition_sets_timestamps(execution):
    execution_transition(execution=execution, target=S.RUNNING)
    execution.refresh_from_db()
    assert execution.status == S.RUNNING
    assert execution.started_at is not None
    execution_transition(execution=execution, target=S.COMPLETED, progress=100)
    execution.refresh_from_db()
    assert (execution.status, execution.progress) == (S.COMPLETED, 100)
    assert execution.completed_at is not None


def test_illegal_transition_raises_and_saves_nothing(execution):
    with pytest.raises(IllegalTransition):
        execution_transition(execution=execution, target=S.SIGNED)
    execution.refresh_from_db()
    assert execution.status == S.QUEUED


def test_stale_copy_loses_the_compare_and_swap(execution):
    stale = WorkflowExecution.objects.get(pk=execution.pk)
    execution_transition(execution=execution, target=S.CANCELED)
    with pytest.raises(TransitionConflict):
        execution_transition(execution=stale, target=S.RUNNING)
    execution.refresh_from_db()
    assert execution.status == S.CANCELED
