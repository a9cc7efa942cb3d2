"""A provider's Retry-After sets the wait before the next attempt (never shorter than the backoff, capped)."""

from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.utils import timezone

from docg.common.errors import DocgError
from docg.connectors import registry
from docg.connectors.errors import retry_after_details
from docg.connectors.registry import App, Operation
from docg.executions import dispatch
from docg.executions.choices import StepStatus
from docg.executions.engine import execution_start
from docg.executions.models import ExecutionLog, ExecutionStep
from docg.executions.tests.conftest import action, active_workflow
from tests.fixtures.engine import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _rate_limited(ctx, params: dict):
    # What every connector client raises for a 429: the header parsed by the shared helper.
    raise DocgError(
        "rate_limit",
        "The provider is limiting requests.",
        {"status_code": 429, **retry_after_details({"Retry-After": params["retry_after"]})},
        transient=True,
    )


@pytest.fixture
def limited_app():
    app = App(slug="limited", name="Rate-limited provider")
    app.action(Operation(name="call", label="Call", handler=_rate_limited, max_attempts=2))
    registry.register(app)
    yield app
    registry._APPS.pop("limited", None)


@pytest.fixture
def sent():
    """Every message the engine enqueues, with its delay; the messages still go to the worker."""
    with dispatch.captured(deliver=True) as messages:
        yield messages


def _second_attempt(cast, retry_after: str) -> tuple[ExecutionStep, ExecutionStep]:
    workflow = active_workflow(cast, action("call", "call", app="limited", parameters={"retry_after": retry_after}))
    execution = execution_start(workflow=workflow, trigger_data={}, by=cast.alice)
    retry = wait_until(
        lambda: ExecutionStep.objects.filter(execution_id=execution.pk, node_key="call", attempt=2).first(),
        what="the second attempt to be scheduled",
    )
    first = ExecutionStep.objects.get(execution_id=execution.pk, node_key="call", attempt=1)
    return first, retry


def _scheduled_in(step: ExecutionStep, settings) -> float:
    # A pending step's lease is its due time plus one lease (see docg.executions.control.execution_resume).
    due = step.lease_expires_at - timedelta(seconds=settings.STEP_LEASE_SECONDS)
    return (due - timezone.now()).total_seconds()


def _delay_of(sent, step: ExecutionStep) -> float:
    return (
        wait_until(lambda: [m.delay_ms for m in sent if m.object_id == str(step.pk)], what="the retry message")[0]
        / 1000
    )


def test_retry_after_120_schedules_the_next_attempt_120_s_later(cast, worker, limited_app, sent, settings):
    first, retry = _second_attempt(cast, "120")
    assert (first.status, first.error_tech["retry_after_seconds"]) == (StepStatus.FAILURE, 120.0)
    assert retry.status == StepStatus.PENDING
    assert 110 < _scheduled_in(retry, settings) <= 120
    assert _delay_of(sent, retry) == 120
    warning = ExecutionLog.objects.get(step=first, level="warn")
    assert "Trying again in 120 s (attempt 2)" in warning.message_human


def test_retry_after_as_an_http_date_is_honoured(cast, worker, limited_app, sent, settings):
    _, retry = _second_attempt(cast, format_datetime(timezone.now() + timedelta(seconds=90), usegmt=True))
    assert 75 < _scheduled_in(retry, settings) <= 91
    assert 75 < _delay_of(sent, retry) <= 91


def test_a_huge_retry_after_is_capped(cast, worker, limited_app, sent, settings):
    settings.STEP_RETRY_MAX_SECONDS = 300
    _, retry = _second_attempt(cast, "86400")
    assert 290 < _scheduled_in(retry, settings) <= 300
    assert _delay_of(sent, retry) == 300


def test_a_short_retry_after_never_shortens_the_backoff(cast, worker, limited_app, sent, settings):
    settings.STEP_RETRY_BASE_SECONDS = 45
    _, retry = _second_attempt(cast, "1")
    assert 35 < _scheduled_in(retry, settings) <= 45
    assert _delay_of(sent, retry) == 45
