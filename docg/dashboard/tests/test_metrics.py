"""Metrics: runs per day by outcome, phase p50/p95 and the slowest steps, drawn as SVG with tables behind."""

from datetime import timedelta

import pytest
from django.utils import timezone

from docg.dashboard import metrics
from docg.dashboard.views.metrics import human_ms, nice_ceiling
from docg.executions.models import ExecutionStep, WorkflowExecution
from docg.executions.tests.builders import PREPARE, active_workflow

pytestmark = pytest.mark.django_db


def run(workflow, status, *, days_ago=0, phases=None, steps=()):
    """A finished run as history (rows written directly: this is recorded data, not a transition)."""
    execution = WorkflowExecution.objects.create(
        organization_id=workflow.organization_id, workflow=workflow, status=status, phase_metrics=phases or {}
    )
    WorkflowExecution.objects.filter(pk=execution.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    for index, (node_key, duration) in enumerate(steps):
        ExecutionStep.objects.create(
            organization_id=workflow.organization_id, execution=execution, node_key=node_key, index=index,
            status="success", duration_ms=duration,
        )  # fmt: skip
    return execution


def render_ms(ms):
    return {"started_at": "2026-01-01T00:00:00.000Z", "completed_at": "2026-01-01T00:00:01.000Z", "duration_ms": ms}


def test_percentile_is_nearest_rank():
    assert metrics.percentile([], 50) is None
    assert metrics.percentile([5], 95) == 5
    values = list(range(1, 101))
    assert (metrics.percentile(values, 50), metrics.percentile(values, 95)) == (50, 95)
    assert nice_ceiling(0) == 1 and nice_ceiling(7) == 10 and nice_ceiling(13) == 20 and nice_ceiling(51) == 100
    assert [human_ms(v) for v in (None, 850, 2400, 185000)] == ["no data", "850 ms", "2.4 s", "3 min 5 s"]


def test_runs_per_day_group_outcomes_and_fill_empty_days(cast):
    workflow = active_workflow(cast, PREPARE)
    run(workflow, "completed")
    run(workflow, "completed")
    run(workflow, "failed")
    run(workflow, "running", days_ago=2)
    run(workflow, "canceled", days_ago=40)  # outside a 30-day window
    other = active_workflow(cast, PREPARE, organization=cast.globex)
    run(other, "failed")
    days = metrics.executions_per_day(organization=cast.acme, days=7)
    assert len(days) == 7
    assert days[-1]["counts"] == {"completed": 2, "failed": 1, "canceled": 0, "in_progress": 0}
    assert days[-3]["counts"]["in_progress"] == 1
    assert sum(d["total"] for d in days) == 4
    summary = metrics.run_summary(organization=cast.acme, days=30)
    assert (summary["total"], summary["completed"], summary["failed"], summary["success_rate"]) == (4, 2, 1, 67)


def test_phase_durations_p50_and_p95_from_phase_metrics(cast):
    workflow = active_workflow(cast, PREPARE)
    for ms in range(100, 2100, 100):  # 20 runs: 100 .. 2000 ms
        run(workflow, "completed", phases={"render": render_ms(ms), "preflight": render_ms(10)})
    run(workflow, "running", phases={"render": {"started_at": "2026-01-01T00:00:00Z", "duration_ms": None}})
    phases = {p["phase"]: p for p in metrics.phase_durations(organization=cast.acme, days=30)}
    assert (phases["render"]["count"], phases["render"]["p50"], phases["render"]["p95"]) == (20, 1000, 1900)
    assert phases["preflight"]["p50"] == 10
    assert phases["signature"]["count"] == 0 and phases["signature"]["p95"] is None


def test_slowest_steps_rank_by_p95_and_point_at_the_slowest_run(cast):
    workflow = active_workflow(cast, PREPARE, name="Contracts")
    run(workflow, "completed", steps=[("render", 3000), ("email", 200)])
    slow = run(workflow, "completed", steps=[("render", 9000), ("email", 300)])
    steps = metrics.slowest_steps(organization=cast.acme, days=30)
    assert [(s["workflow"], s["node_key"]) for s in steps] == [("Contracts", "render"), ("Contracts", "email")]
    assert (steps[0]["count"], steps[0]["p50"], steps[0]["max"]) == (2, 3000, 9000)
    assert steps[0]["slowest_execution_id"] == slow.pk


def test_page_draws_accessible_charts_with_a_table_fallback(client, cast):
    workflow = active_workflow(cast, PREPARE, name="Contracts")
    run(workflow, "completed", phases={"render": render_ms(1500)}, steps=[("render", 1500)])
    run(workflow, "failed", phases={"render": render_ms(500)})
    client.force_login(cast.vera)
    response = client.get("/metrics/", {"days": "7"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg") == 2
    assert '<title id="runs-chart-title">Runs per day, last 7 days</title>' in page
    assert '<desc id="phase-chart-desc">' in page
    assert 'class="seg-completed"' in page and 'class="seg-failed"' in page
    assert page.count("Show the numbers") == 2
    assert 'data-stat="total">2<' in page
    assert "1.5 s" in page
    assert "data-slowest-steps" in page and "Contracts" in page
    assert 'aria-current="page">Last 7 days' in page


def test_other_organizations_runs_are_not_counted_and_odd_input_is_harmless(client, cast):
    other = active_workflow(cast, PREPARE, organization=cast.globex, name="Globex flow")
    run(other, "failed", steps=[("secret", 99999)])
    client.force_login(cast.alice)
    for days in ("abc", "-5", "100000", ""):
        response = client.get("/metrics/", {"days": days})
        assert response.status_code == 200
        page = response.content.decode()
        assert "Globex flow" not in page
        assert 'data-stat="total">0<' in page
        assert "No runs in this period yet." in page
    assert client.post("/metrics/").status_code == 405
