"""`manage.py benchmark dashboard` runs end to end on small inputs (figures go in notes, never in assertions)."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from docg.benchmarks.dashboard import DashboardBenchmark
from docg.documents.models import GeneratedDocument, Template
from docg.executions.models import WorkflowExecution
from docg.orgs.models import Organization, User
from docg.workflows.models import Workflow

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PAGES = [
    "workflows",
    "runs",
    "runs, failed",
    "run page",
    "run logs tab",
    "run audit tab",
    "approvals",
    "templates",
    "template page",
    "documents",
    "connections",
    "metrics 30 days",
    "billing",
    "workflow editor",
    "run a workflow",
]


def _benchmark(*args: str) -> str:
    out = StringIO()
    call_command("benchmark", "dashboard", "--executions", "3", "--requests", "2", "--workers", "2", *args, stdout=out)
    return out.getvalue()


def _left_behind() -> dict[str, int]:
    organizations = Organization.objects.filter(name__startswith="benchmark-dashboard-")
    return {
        "runs": WorkflowExecution.objects.filter(organization__in=organizations).count(),
        "workflows": Workflow.objects.filter(organization__in=organizations).count(),
        "templates": Template.objects.filter(organization__in=organizations).count(),
        "documents": GeneratedDocument.objects.filter(organization__in=organizations).count(),
        "owners": User.objects.filter(email__startswith="benchmark-dashboard-").count(),
    }


def test_dashboard_benchmark_reports_every_page_and_cleans_up():
    text = _benchmark()
    assert "database postgresql" in text
    assert "Django 5." in text
    # 3 core runs, 1 filled quote, 1 refused quote, 1 waiting for approval.
    assert "6 runs through the engine" in text
    for page in PAGES:
        row = re.search(rf"^{re.escape(page)}\s+/\S*\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+([\d.]+)$", text, re.M)
        assert row, f"no figures for {page}:\n{text}"
        assert int(row.group(4)) > 0  # the session and membership reads at least
    assert "Deleted the benchmark's 6 runs" in text
    assert _left_behind() == {"runs": 0, "workflows": 0, "templates": 0, "documents": 0, "owners": 0}


def test_keep_leaves_the_organization_rows_for_inspection():
    text = _benchmark("--keep")
    assert "Kept organization" in text
    left = _left_behind()
    assert left["runs"] == 6
    assert left["workflows"] == 3
    assert left["templates"] == 1
    assert left["owners"] == 1


def test_a_page_that_does_not_answer_200_fails_the_command(monkeypatch):
    monkeypatch.setattr(DashboardBenchmark, "pages", lambda self: [("missing", "/executions/not-a-run/")])
    with pytest.raises(CommandError, match=r"missing .* answered 404"):
        _benchmark()
    assert _left_behind()["runs"] == 0


def test_bad_dashboard_benchmark_arguments_are_refused():
    with pytest.raises(CommandError):
        call_command("benchmark", "dashboard", "--requests", "0")


@pytest.mark.parametrize(
    "args", [["--requests", "0"], ["--concurrency", "0"], ["--worker-processes", "0"], ["--single", "-1"]]
)
def test_bad_webhook_benchmark_arguments_are_refused(args):
    with pytest.raises(CommandError):
        call_command("benchmark", "webhook", *args)
