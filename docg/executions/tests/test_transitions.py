"""Every pair of the twelve statuses through the one function that applies transitions (PRODUCT.md section 4)."""

import itertools

import pytest

from docg.executions.choices import ExecutionStatus as S
from docg.executions.models import WorkflowExecution
from docg.executions.state import TERMINAL, TRANSITIONS, IllegalTransition, can_transition, execution_transition
from docg.orgs.models import Organization
from docg.workflows.models import Workflow

pytestmark = pytest.mark.django_db

PAIRS = list(itertools.product(S.values, repeat=2))
LEGAL = [(a, b) for a, b in PAIRS if b in TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in PAIRS if b not in TRANSITIONS[a]]

# The table itself, spelled out once more: a change to it must be a deliberate change to this test.
EXPECTED = {
    S.QUEUED: {S.RUNNING, S.NEEDS_REVIEW, S.PAUSED, S.FAILED, S.CANCELED},
    S.RUNNING: {S.NEEDS_REVIEW, S.READY, S.SENDING, S.SIGNING, S.PAUSED, S.COMPLETED, S.FAILED, S.CANCELED},
    S.NEEDS_REVIEW: {S.QUEUED, S.RUNNING, S.FAILED, S.CANCELED},
    S.READY: {S.RUNNING, S.SENDING, S.SIGNING, S.PAUSED, S.COMPLETED, S.FAILED, S.CANCELED},
    S.SENDING: {S.SENT, S.RUNNING, S.PAUSED, S.FAILED, S.CANCELED},
    # After an email or a signature: render again (ready), send or sign again, or finish.
    S.SENT: {S.RUNNING, S.READY, S.SENDING, S.SIGNING, S.PAUSED, S.COMPLETED, S.FAILED, S.CANCELED},
    S.SIGNING: {S.SIGNED, S.RUNNING, S.PAUSED, S.FAILED, S.CANCELED},
    S.SIGNED: {S.RUNNING, S.READY, S.SENDING, S.SIGNING, S.PAUSED, S.COMPLETED, S.FAILED, S.CANCELED},
    S.PAUSED: {S.QUEUED, S.RUNNING, S.FAILED, S.CANCELED},
    S.COMPLETED: set(),
    S.FAILED: set(),
    S.CANCELED: set(),
}


@pytest.fixture
def workflow():
    organization = Organization.objects.create(name="Acme")
    return Workflow.objects.create(organization=organization, name="wf")


def _execution(workflow, status: str) -> WorkflowExecution:
    # Test setup only: production code moves status through execution_transition alone.
    return WorkflowExecution.objects.create(organization_id=workflow.organization_id, workflow=workflow, status=status)


def test_the_table_is_the_documented_one():
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED
    assert len(PAIRS) == 144
    assert len(LEGAL) + len(ILLEGAL) == 144
    assert all(not TRANSITIONS[t] for t in TERMINAL)
    assert all(a != b for a, b in LEGAL)  # no status "moves" to itself


@pytest.mark.parametrize(("current", "target"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_legal_transition_is_saved(workflow, current, target):
    execution = _execution(workflow, current)
    assert can_transition(current, target)
    execution_transition(execution=execution, target=target, last_error_code="marker")
    assert execution.status == target
    saved = WorkflowExecution.objects.get(pk=execution.pk)
    assert (saved.status, saved.last_error_code) == (target, "marker")
    if target == S.RUNNING:
        assert saved.started_at is not None
    assert (saved.completed_at is not None) == (target in TERMINAL)


@pytest.mark.parametrize(("current", "target"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_illegal_transition_raises_and_saves_nothing(workflow, current, target):
    execution = _execution(workflow, current)
    before = WorkflowExecution.objects.values().get(pk=execution.pk)
    assert not can_transition(current, target)
    with pytest.raises(IllegalTransition) as caught:
        execution_transition(execution=execution, target=target, last_error_code="marker")
    assert (caught.value.current, caught.value.target) == (current, target)
    assert execution.status == current
    assert WorkflowExecution.objects.values().get(pk=execution.pk) == before
