"""`manage.py benchmark dashboard`: server time, SQL queries and size of each main dashboard page.

In a throwaway organization ("benchmark-dashboard-<timestamp>") with one owner,
the benchmark makes what a busy organization has, through the real engine:

- a workflow of K `core.set_variables` steps (docg.benchmarks.engine) and N
  runs of it driven to completion,
- the demo's contract template (docg/demo/documents.py, uploaded through
  docg.documents services) and the demo's quote workflow (docg/demo/seed.py):
  some requests filled into the template (generated documents), some refused by
  its `core.fail` step (failed runs),
- the demo's contract workflow, a few runs of it waiting for a manager's approval.

The runs are queued first, then Dramatiq worker threads in this process run
them on the configured broker, as the engine benchmark's load does. Then
Django's test Client, logged in as the owner with DEBUG off, asks each page
R times: per page p50 / p95 / max milliseconds (in-process: URL routing,
middleware, view, template; no network), the SQL queries of one request and
the response size. A query count that grows with N is an N+1 to fix.

Afterwards the executions, documents, template, workflows and the owner are
deleted unless --keep; the organization and its audit events stay, because the
audit table is append-only.
"""

import os
import platform
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import django
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from docg.benchmarks.engine import QueryCounter, benchmark_nodes, percentile
from docg.executions.choices import ExecutionStatus
from docg.executions.models import ExecutionLog, ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.executions.state import TERMINAL

CORE_STEPS = 3
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Where a run rests without a worker: finished, or waiting for a person.
SETTLED = {*TERMINAL, ExecutionStatus.PAUSED, ExecutionStatus.NEEDS_REVIEW}


class PageError(RuntimeError):
    """A dashboard page did not answer 200."""


@dataclass
class PageFigures:
    name: str
    path: str
    timings_ms: list[float]
    queries: int
    size_bytes: int


@dataclass
class DashboardBenchmark:
    executions: int = 300
    requests: int = 50
    workers: int = 4
    keep: bool = False
    timeout: float = 0
    write: Callable[[str], None] = print
    user: Any = None
    organization: Any = None
    template: Any = None
    workflows: dict[str, Any] = field(default_factory=dict)
    runs: dict[str, Any] = field(default_factory=dict)
    results: list[PageFigures] = field(default_factory=list)

    def run(self) -> list[PageFigures]:
        from docg.executions import actors  # noqa: F401  (declares every queue before a worker starts)

        if self.executions < 1 or self.requests < 1 or self.workers < 1:
            raise ValueError("--executions, --requests and --workers must be at least 1.")
        hosts = list(settings.ALLOWED_HOSTS)
        # Production runs with DEBUG off; with it on, Django keeps every query and the error pages differ.
        with override_settings(DEBUG=False, ALLOWED_HOSTS=[*hosts, "testserver"] if "*" not in hosts else hosts):
            self._describe_setup()
            try:
                self._create_data()
                self._measure_pages()
            finally:
                self._cleanup()
        return self.results

    # --- setup ---------------------------------------------------------------------------

    def _describe_setup(self) -> None:
        db = settings.DATABASES["default"]
        self.write(
            f"docg dashboard benchmark: {self.executions} runs of a {CORE_STEPS}-step workflow, "
            f"{self.requests} requests per page (Django test Client, in-process)\n"
            f"  database {connection.vendor} ({db.get('NAME')}), {settings.DOCG_MODE} "
            f"({'Redis' if settings.REDIS_URL else 'embedded'} broker and streams), DEBUG=False, "
            f"Python {platform.python_version()}, Django {django.get_version()}, "
            f"{os.cpu_count()} CPU(s), load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )

    def _create_data(self) -> None:
        from docg.demo.documents import demo_template
        from docg.demo.seed import contract_nodes, quote_nodes
        from docg.orgs.models import Organization, User
        from docg.orgs.services import organization_create
        from docg.workflows.services import workflow_activate, workflow_create

        stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
        self.user = User.objects.create_user(email=f"benchmark-dashboard-{stamp}@docg.local", password=None)
        self.organization = organization_create(name=f"benchmark-dashboard-{stamp}", owner=self.user)
        # The business plan has no monthly run limit (docg/orgs/billing.py plan_run_reserve).
        Organization.objects.filter(pk=self.organization.pk).update(plan="business")
        self.organization.refresh_from_db()
        self.template, _ = demo_template(organization=self.organization, by=self.user)
        for name, nodes in (
            ("core", benchmark_nodes(CORE_STEPS)),
            ("quote", quote_nodes(self.template)),
            ("contract", contract_nodes(self.template)),
        ):
            workflow = workflow_create(
                organization=self.organization, by=self.user, name=f"benchmark {name}", nodes=nodes
            )
            workflow_activate(workflow=workflow, by=self.user)
            workflow.refresh_from_db()
            self.workflows[name] = workflow
        self.write(f"  organization {self.organization.name} ({self.organization.pk}), owner {self.user.email}")
        self._run_workflows()

    def _start(self, name: str, trigger_data: dict) -> WorkflowExecution:
        from docg.executions.engine import execution_start

        return execution_start(workflow=self.workflows[name], trigger_data=trigger_data, by=self.user)

    def _run_workflows(self) -> None:
        from docg.demo.seed import DEMO_RUNS

        quote_ok, quote_refused, contract = (
            next(r.trigger_data for r in DEMO_RUNS if r.workflow == w and r.status == s)
            for w, s in (("Quote request", "completed"), ("Quote request", "failed"), ("Sales contract", "paused"))
        )
        documents, failures, approvals = (max(1, self.executions // n) for n in (20, 30, 100))
        began = time.perf_counter()
        ids = [self._start("core", {"n": 0, "customer": f"customer {i}"}).pk for i in range(self.executions)]
        ids += [self._start("quote", quote_ok).pk for _ in range(documents)]
        ids += [self._start("quote", quote_refused).pk for _ in range(failures)]
        ids += [self._start("contract", contract).pk for _ in range(approvals)]
        self._drive(ids)
        statuses = Counter(WorkflowExecution.objects.filter(pk__in=ids).values_list("status", flat=True))
        self.write(
            f"  {len(ids)} runs through the engine ({self.workers} in-process worker thread(s)) in "
            f"{time.perf_counter() - began:.1f} s: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        )
        expected = {
            ExecutionStatus.COMPLETED: self.executions + documents,
            ExecutionStatus.FAILED: failures,
            ExecutionStatus.PAUSED: approvals,
        }
        if statuses != expected:
            raise RuntimeError(f"The benchmark's runs ended {dict(statuses)}, expected {expected}.")
        self.runs["completed"] = (
            WorkflowExecution.objects.filter(workflow=self.workflows["core"]).order_by("-created_at").first()
        )

    def _drive(self, ids: list[Any]) -> None:
        import dramatiq

        worker = dramatiq.Worker(dramatiq.get_broker(), worker_threads=self.workers)
        worker.start()
        try:
            deadline = time.monotonic() + (self.timeout or max(120.0, len(ids) * 0.5))
            pending = WorkflowExecution.objects.filter(pk__in=ids).exclude(status__in=SETTLED)
            while pending.exists():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{pending.count()} of {len(ids)} runs had not settled in time.")
                time.sleep(0.1)
        finally:
            worker.stop(timeout=30_000)

    # --- measuring -----------------------------------------------------------------------------

    def pages(self) -> list[tuple[str, str]]:
        run, core = self.runs["completed"].pk, self.workflows["core"].pk
        return [
            ("workflows", reverse("dashboard:home")),
            ("runs", reverse("dashboard:executions")),
            ("runs, failed", reverse("dashboard:executions") + "?status=failed"),
            ("run page", reverse("dashboard:execution", args=[run])),
            ("run logs tab", reverse("dashboard:execution-logs", args=[run])),
            ("run audit tab", reverse("dashboard:execution-audit", args=[run])),
            ("approvals", reverse("dashboard:approvals")),
            ("templates", reverse("dashboard:templates")),
            ("template page", reverse("dashboard:template", args=[self.template.pk])),
            ("documents", reverse("dashboard:documents")),
            ("connections", reverse("dashboard:connections")),
            ("metrics 30 days", reverse("dashboard:metrics") + "?days=30"),
            ("billing", reverse("dashboard:billing")),
            ("workflow editor", reverse("dashboard:workflow", args=[core])),
            ("run a workflow", reverse("dashboard:workflow-run", args=[core])),
        ]

    def _get(self, client: Client, name: str, path: str):
        response = client.get(path)
        if response.status_code != 200:
            raise PageError(f"{name} ({path}) answered {response.status_code}, not 200.")
        return response

    def _measure_pages(self) -> None:
        client = Client()
        client.force_login(self.user)
        try:
            for name, path in self.pages():
                self._get(client, name, path)  # warm-up: compiled templates, caches
                # execute_wrapper rather than CaptureQueriesContext: the request_started signal empties
                # connection.queries_log mid-capture (reset_queries), so its slice can come out empty.
                counter = QueryCounter()
                with connection.execute_wrapper(counter):
                    response = self._get(client, name, path)
                timings = []
                for _ in range(self.requests):
                    began = time.perf_counter()
                    self._get(client, name, path)
                    timings.append((time.perf_counter() - began) * 1000)
                self.results.append(PageFigures(name, path, timings, counter.total, len(response.content)))
        finally:
            client.logout()
        self._report()

    def _report(self) -> None:
        lines = [
            f"\n{'page':<17} {'path':<32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'KB':>7}",
        ]
        for page in self.results:
            path = UUID.sub("<id>", page.path)
            lines.append(
                f"{page.name:<17} {path:<32} {percentile(page.timings_ms, 50):8.1f} "
                f"{percentile(page.timings_ms, 95):8.1f} {max(page.timings_ms):8.1f} {page.queries:8d} "
                f"{page.size_bytes / 1024:7.1f}"
            )
        lines.append(f"({self.requests} requests per page after one warm-up; queries counted on one request.)")
        self.write("\n".join(lines))

    # --- cleanup ---------------------------------------------------------------------------------

    def _cleanup(self) -> None:
        if self.organization is None:
            return
        if self.keep:
            self.write(f"\nKept organization {self.organization.name} and its rows (--keep).")
            return
        from docg.documents.models import GeneratedDocument
        from docg.documents.services import template_delete
        from docg.executions.streams import execution_key, get_streams, organization_key
        from docg.workflows.services import workflow_delete

        organization = self.organization
        ids = list(WorkflowExecution.objects.filter(organization=organization).values_list("pk", flat=True))
        streams = get_streams()
        for execution_id in ids:
            streams.delete(execution_key(execution_id))
        streams.delete(organization_key(organization.pk))
        documents = list(GeneratedDocument.objects.filter(organization=organization))
        with transaction.atomic():
            # Children first, so each delete is a plain DELETE rather than a cascade collected in Python.
            ExecutionLog.objects.filter(execution__organization=organization).delete()
            WorkflowApproval.objects.filter(execution__organization=organization).delete()
            ExecutionStep.objects.filter(execution__organization=organization).delete()
            GeneratedDocument.objects.filter(organization=organization).delete()
            WorkflowExecution.objects.filter(organization=organization).delete()
            for workflow in self.workflows.values():
                workflow_delete(workflow=workflow, by=None)
            if self.template is not None:
                template_delete(template=self.template, by=None)
            self.user.delete()
            for document in documents:
                transaction.on_commit(lambda file=document.file: file.storage.delete(file.name))
        self.write(
            f"\nDeleted the benchmark's {len(ids)} runs (steps, logs, event streams), {len(documents)} documents, "
            f"its template, workflows and owner. The organization {organization.name} and its audit events stay: "
            "the audit table is append-only."
        )
