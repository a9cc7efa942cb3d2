"""The runs list (filters, live rows) and one run's page: timeline, errors, logs, audit, timings and controls."""

from datetime import timedelta

import pytest
from django.utils import timezone

from docg.executions.choices import ExecutionStatus, LogDomain, StepStatus
from docg.executions.engine import execution_start
from docg.executions.logger import log_error, log_ok
from docg.executions.models import ExecutionStep, WorkflowExecution
from docg.executions.tests.builders import FAIL, PREPARE, active_workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def workflow(cast):
    return active_workflow(cast, PREPARE, FAIL, name="Contract")


def start(workflow, user, **data) -> WorkflowExecution:
    return execution_start(workflow=workflow, trigger_data=data or {"customer": "Ana"}, by=user)


def failed_run(workflow, user) -> WorkflowExecution:
    """A run as the engine leaves it when step `check` fails (rows written directly: no worker here)."""
    execution = start(workflow, user)
    now = timezone.now()
    WorkflowExecution.objects.filter(pk=execution.pk).update(
        status=ExecutionStatus.FAILED,
        progress=66,
        last_error_code="data.invalid",
        last_error_human="The customer is blocked.",
        phase_metrics={
            "preflight": {"started_at": "2026-01-01T10:00:00.000Z", "completed_at": "x", "duration_ms": 120},
            "render": {"started_at": "2026-01-01T10:00:01.000Z", "completed_at": "x", "duration_ms": 2400},
        },
    )
    common = {"organization_id": execution.organization_id, "execution": execution}
    ExecutionStep.objects.create(
        **common, node_key="start", index=0, status=StepStatus.SUCCESS, data_out={"customer": "Ana"}, duration_ms=0
    )
    ExecutionStep.objects.create(
        **common,
        node_key="prepare",
        index=1,
        status=StepStatus.SUCCESS,
        data_in={"variables": {"customer": "{{ trigger.customer | upper }}"}},
        data_out={"customer": "ANA"},
        started_at=now - timedelta(seconds=2),
        finished_at=now - timedelta(milliseconds=500),
        duration_ms=1500,
    )
    failed = ExecutionStep.objects.create(
        **common,
        node_key="check",
        index=2,
        status=StepStatus.FAILURE,
        error_code="data.invalid",
        error_human="The customer is blocked.",
        error_tech={"exception": "DocgError", "traceback": "Traceback: boom at line 7"},
        duration_ms=40,
    )
    execution.refresh_from_db()
    log_error(execution=execution, domain=LogDomain.STEP, step=failed, message="Step check failed.", details={"x": 1})
    return execution


# --- the list ------------------------------------------------------------------------


def test_list_shows_the_organizations_runs_with_live_hooks(client, cast, workflow):
    ours = start(workflow, cast.alice)
    theirs = start(active_workflow(cast, PREPARE, organization=cast.globex, name="Globex secret"), cast.charlie)
    client.force_login(cast.alice)
    page = client.get("/executions/").content.decode()
    assert f'data-execution-id="{ours.pk}"' in page
    assert str(theirs.pk) not in page and "Globex secret" not in page
    assert 'data-org-stream="/api/v1/sse/stream"' in page
    assert 'data-run-status="queued"' in page


def test_list_filters_by_status_workflow_and_date(client, cast, workflow):
    other = active_workflow(cast, PREPARE, name="Invoice")
    queued = start(workflow, cast.alice)
    failed = failed_run(workflow, cast.alice)
    invoice = start(other, cast.alice)
    client.force_login(cast.alice)

    page = client.get("/executions/", {"status": "failed"}).content.decode()
    assert str(failed.pk) in page and str(queued.pk) not in page

    page = client.get("/executions/", {"workflow": str(other.pk)}).content.decode()
    assert str(invoice.pk) in page and str(queued.pk) not in page

    today = timezone.localdate()
    page = client.get("/executions/", {"date_from": str(today), "date_to": str(today)}).content.decode()
    assert str(invoice.pk) in page and str(queued.pk) in page
    page = client.get("/executions/", {"date_to": str(today - timedelta(days=1))}).content.decode()
    assert str(invoice.pk) not in page and "No run matches these filters" in page


@pytest.mark.parametrize(
    "query",
    [
        {"status": "exploded"},
        {"workflow": "not-a-uuid"},
        {"date_from": "yesterday"},
        {"date_to": "2026-13-45"},
        {"page": "abc"},
        {"page": "-1"},
        {"status": ["failed", "'; DROP TABLE"]},
        {"created_at__gte": "2020-01-01", "organization_id": "x"},
    ],
)
def test_bad_filters_are_ignored_and_the_page_still_works(client, cast, workflow, query):
    run = start(workflow, cast.alice)
    client.force_login(cast.alice)
    response = client.get("/executions/", query)
    assert response.status_code == 200
    assert str(run.pk) in response.content.decode()


def test_a_bad_filter_is_named_in_a_notice(client, cast, workflow):
    client.force_login(cast.alice)
    page = client.get("/executions/", {"status": "exploded"}).content.decode()
    assert "Some filters were not valid and were ignored: Status." in page


def test_another_organizations_workflow_filter_is_ignored(client, cast, workflow):
    globex = active_workflow(cast, PREPARE, organization=cast.globex, name="Globex secret")
    start(globex, cast.charlie)
    ours = start(workflow, cast.alice)
    client.force_login(cast.alice)
    page = client.get("/executions/", {"workflow": str(globex.pk)}).content.decode()
    assert str(ours.pk) in page and "Globex secret" not in page


def test_htmx_gets_the_rows_alone(client, cast, workflow):
    run = start(workflow, cast.alice)
    client.force_login(cast.alice)
    response = client.get("/executions/", headers={"HX-Request": "true", "HX-Target": "run-rows"})
    body = response.content.decode()
    assert body.startswith('<section id="run-rows"')
    assert str(run.pk) in body and "<html" not in body


# --- one run ---------------------------------------------------------------------------


def test_run_page_shows_status_progress_and_the_live_stream(client, cast, workflow):
    run = start(workflow, cast.alice)
    client.force_login(cast.alice)
    page = client.get(f"/executions/{run.pk}/").content.decode()
    assert f'data-stream-url="/api/v1/sse/executions/{run.pk}/stream"' in page
    assert 'data-status="queued"' in page
    assert '<progress id="run-progress" max="100" value="0">' in page
    assert "data-token-url" not in page  # one organization: the session cookie names it


def test_with_several_organizations_the_page_reads_its_stream_through_a_token(client, cast, workflow):
    from docg.orgs.choices import Role
    from docg.orgs.services import membership_add

    membership_add(organization=cast.globex, user=cast.alice, role=Role.VIEWER)
    run = start(workflow, cast.alice)
    client.force_login(cast.alice)
    page = client.get(f"/executions/{run.pk}/").content.decode()
    assert f'data-token-url="/api/v1/executions/{run.pk}/stream-token"' in page


def test_failed_run_shows_the_human_error_timeline_and_technical_details(client, cast, workflow):
    run = failed_run(workflow, cast.alice)
    client.force_login(cast.alice)
    page = client.get(f"/executions/{run.pk}/").content.decode()
    assert "Step “check” did not work" in page
    assert "data-error-human>The customer is blocked." in page
    assert "<summary>Technical details</summary>" in page and "Traceback: boom at line 7" in page
    # Timeline: each step with its status, duration and data in/out.
    assert 'data-step="prepare" data-step-status="success"' in page
    assert "1.5 s" in page
    assert "<summary>Data in</summary>" in page and "&quot;customer&quot;: &quot;ANA&quot;" in page
    # Timings bar: proportional segments (120 ms vs 2.4 s).
    assert 'class="phase-seg phase-preflight" style="width: 4.8%"' in page
    assert 'class="phase-seg phase-render" style="width: 95.2%"' in page
    # A finished run can be retried from the failed step, which is preselected; it cannot be paused.
    assert '<option value="check" selected>' in page
    assert "/pause/" not in page and "/cancel/" not in page


def test_parts_are_out_of_band_fragments(client, cast, workflow):
    run = failed_run(workflow, cast.alice)
    client.force_login(cast.alice)
    body = client.get(f"/executions/{run.pk}/parts/").content.decode()
    for part in ("controls", "problem", "signers", "phase-metrics", "timeline"):
        assert f'id="{part}"' in body
    assert body.count('hx-swap-oob="true"') == 5


def test_logs_tab_filters_by_level_domain_and_step(client, cast, workflow):
    run = failed_run(workflow, cast.alice)
    log_ok(execution=run, domain=LogDomain.PREFLIGHT, message="Preflight passed.")
    failed = run.steps.get(node_key="check")
    client.force_login(cast.alice)
    url = f"/executions/{run.pk}/logs/"
    everything = client.get(url).content.decode()
    assert "Preflight passed." in everything and "Step check failed." in everything and "Run queued." in everything
    errors = client.get(url, {"level": "error"}).content.decode()
    assert "Step check failed." in errors and "Preflight passed." not in errors
    preflight = client.get(url, {"domain": "preflight"}).content.decode()
    assert "Preflight passed." in preflight and "Step check failed." not in preflight
    by_step = client.get(url, {"step": str(failed.pk)}).content.decode()
    assert "Step check failed." in by_step and "Run queued." not in by_step


@pytest.mark.parametrize(
    "query",
    [
        {"level": "fatal"},
        {"domain": "x" * 500},
        {"step": "not-a-uuid"},
        {"step": "00000000-0000-0000-0000-000000000000"},
    ],
)
def test_bad_log_filters_are_ignored(client, cast, workflow, query):
    run = failed_run(workflow, cast.alice)
    client.force_login(cast.alice)
    response = client.get(f"/executions/{run.pk}/logs/", query)
    assert response.status_code == 200
    assert "Step check failed." in response.content.decode()


def test_audit_tab_lists_the_runs_audit_trail(client, cast, workflow):
    run = start(workflow, cast.alice)
    client.force_login(cast.alice)
    body = client.get(f"/executions/{run.pk}/audit/").content.decode()
    assert "<code>execution.started</code>" in body


def test_needs_review_shows_the_preflight_and_a_resume_form(client, cast, workflow):
    run = start(workflow, cast.alice)
    from docg.executions.preflight import preflight_check

    report = preflight_check(
        organization=cast.acme, nodes=run.workflow_version.definition["nodes"], trigger_data={}, execution_id=run.pk
    )
    WorkflowExecution.objects.filter(pk=run.pk).update(
        status=ExecutionStatus.NEEDS_REVIEW, preflight_summary=report, recommended_actions=report["recommended_actions"]
    )
    client.force_login(cast.alice)
    page = client.get(f"/executions/{run.pk}/").content.decode()
    assert "This run is waiting for you" in page
    assert 'data-issue="data.unresolved_variables"' in page
    assert f'href="/workflows/{workflow.pk}/" data-action="map_fields"' in page
    assert f'action="/executions/{run.pk}/resume/"' in page


# --- controls --------------------------------------------------------------------------


def test_writer_sees_the_controls_the_state_allows(client, cast, workflow):
    run = start(workflow, cast.bob)
    client.force_login(cast.bob)
    page = client.get(f"/executions/{run.pk}/").content.decode()
    assert f'action="/executions/{run.pk}/pause/"' in page
    assert f'action="/executions/{run.pk}/cancel/"' in page
    assert "/retry/" not in page and "/resume/" not in page


def test_viewer_sees_no_buttons_and_cannot_post(client, cast, workflow):
    queued = start(workflow, cast.alice)
    failed = failed_run(workflow, cast.alice)
    client.force_login(cast.vera)
    for run in (queued, failed):
        page = client.get(f"/executions/{run.pk}/").content.decode()
        assert '<form method="post" action="/executions/' not in page
        assert "Run again with changed data" not in page
    for verb in ("pause", "cancel", "resume", "retry"):
        assert client.post(f"/executions/{queued.pk}/{verb}/").status_code == 404
    assert client.post(f"/executions/{failed.pk}/retry/", {"from_step": "check"}).status_code == 404
    queued.refresh_from_db()
    assert queued.status == ExecutionStatus.QUEUED
    assert WorkflowExecution.objects.count() == 2


def test_pause_resume_and_cancel(client, cast, workflow):
    run = start(workflow, cast.alice)
    client.force_login(cast.alice)
    response = client.post(f"/executions/{run.pk}/pause/", follow=True)
    assert "The run is paused" in response.content.decode()
    run.refresh_from_db()
    assert run.status == ExecutionStatus.PAUSED
    assert f'action="/executions/{run.pk}/resume/"' in response.content.decode()

    client.post(f"/executions/{run.pk}/resume/")
    run.refresh_from_db()
    assert run.status == ExecutionStatus.QUEUED

    response = client.post(f"/executions/{run.pk}/cancel/", {"reason": "wrong customer"}, follow=True)
    run.refresh_from_db()
    assert run.status == ExecutionStatus.CANCELED
    assert "The run was canceled" in response.content.decode()


def test_a_refused_control_is_explained_not_a_500(client, cast, workflow):
    run = failed_run(workflow, cast.alice)
    client.force_login(cast.alice)
    response = client.post(f"/executions/{run.pk}/pause/", follow=True)
    assert response.status_code == 200
    assert "This run is failed: it cannot be paused." in response.content.decode()
    response = client.post(f"/executions/{run.pk}/resume/", {"changes": "{oops"}, follow=True)
    assert response.status_code == 200
    assert "This is not valid JSON" in response.content.decode()


def test_retry_from_the_failed_step_starts_a_linked_run(client, cast, workflow):
    run = failed_run(workflow, cast.alice)
    client.force_login(cast.alice)
    response = client.post(f"/executions/{run.pk}/retry/", {"from_step": "check"})
    retry = WorkflowExecution.objects.get(parent_execution=run)
    assert response.status_code == 302
    assert response["Location"] == f"/executions/{retry.pk}/"
    assert retry.retry_from_step == "check"
    assert retry.trigger_data == run.trigger_data
    page = client.get(response["Location"]).content.decode()
    assert "A new run was started from this one." in page
    assert f'href="/executions/{run.pk}/" data-parent-link' in page


def test_retry_from_an_unknown_step_is_refused(client, cast, workflow):
    run = failed_run(workflow, cast.alice)
    client.force_login(cast.alice)
    response = client.post(f"/executions/{run.pk}/retry/", {"from_step": "nope" * 40}, follow=True)
    assert response.status_code == 200
    assert "This workflow has no step" in response.content.decode()
    assert not WorkflowExecution.objects.filter(parent_execution=run).exists()


def test_another_organizations_run_is_a_404_everywhere(client, cast, workflow):
    run = failed_run(workflow, cast.alice)
    client.force_login(cast.charlie)
    for suffix in ("", "parts/", "logs/", "audit/"):
        assert client.get(f"/executions/{run.pk}/{suffix}").status_code == 404
    for verb in ("pause", "cancel", "resume", "retry"):
        assert client.post(f"/executions/{run.pk}/{verb}/").status_code == 404
    assert not WorkflowExecution.objects.filter(parent_execution=run).exists()


def test_control_urls_only_take_posts(client, cast, workflow):
    run = start(workflow, cast.alice)
    client.force_login(cast.alice)
    assert client.get(f"/executions/{run.pk}/cancel/").status_code == 405
