"""`manage.py benchmark engine`: throughput, per-step engine overhead and queries per step.

The benchmark runs in a throwaway organization ("benchmark-<timestamp>") a
workflow of a webhook trigger and K `core.set_variables` steps, which neither
wait nor do I/O, so what it measures is the engine itself: claiming, rendering,
recording, scheduling the next step, events and logs.

1. Calibration, in this process with no broker hop: one execution run step by
   step under `connection.execute_wrapper`, counting database queries (per
   phase: start, preflight+trigger, steps), then a few more executions run one at
   a time for the unloaded per-step timings.
2. Load: N executions are queued first (a backlog), then W Dramatiq worker
   threads in this process (or P `rundramatiq` processes of W threads each) run
   them on the configured broker until every one is terminal.

Per-step figures, from the steps' own timestamps:
- wall: `finished_at - started_at` of a step (claim through render, validation
  and action, up to the result's row lock; set_variables does nothing, so this is
  engine time),
- gap: the previous step's `finished_at` to this step's `started_at` (recording
  the result, logs, events, creating the next step, commit, the next claim),
- overhead: wall + gap, the full engine cost of one step.

Under load these include waiting for a CPU (threads, processes and PostgreSQL
share the machine); the unloaded series is the engine's own latency.

Afterwards the benchmark's executions (steps, logs, event streams) and workflow
are deleted unless --keep; the organization and its audit events stay, because
the audit table is append-only. Works on PostgreSQL + Redis and on the embedded
defaults (SQLite + the in-process StubBroker; --processes needs Redis).
"""

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from docg.executions.choices import ExecutionStatus
from docg.executions.models import ExecutionLog, ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.executions.state import TERMINAL

TRIGGER = {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"}


def benchmark_nodes(steps: int) -> list[dict[str, Any]]:
    """A webhook trigger and `steps` set_variables steps, each reading the trigger and the previous step."""
    nodes: list[dict[str, Any]] = [dict(TRIGGER)]
    for i in range(1, steps + 1):
        previous = f"{{{{ steps.s{i - 1}.n }}}}" if i > 1 else "{{ trigger.n }}"
        nodes.append(
            {
                "key": f"s{i}",
                "kind": "action",
                "app": "core",
                "operation": "set_variables",
                "label": f"Step {i}",
                "parameters": {"variables": {"n": i, "previous": previous, "customer": "{{ trigger.customer }}"}},
            }
        )
    return nodes


# --- numbers ---------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def series_line(name: str, values_ms: list[float]) -> str:
    if not values_ms:
        return f"  {name:<10} (no samples)"
    return (
        f"  {name:<10} p50 {percentile(values_ms, 50):7.2f} ms   p95 {percentile(values_ms, 95):7.2f} ms   "
        f"p99 {percentile(values_ms, 99):7.2f} ms   mean {statistics.fmean(values_ms):7.2f} ms   n={len(values_ms)}"
    )


@dataclass
class StepTimings:
    wall: list[float] = field(default_factory=list)
    gap: list[float] = field(default_factory=list)
    overhead: list[float] = field(default_factory=list)


def step_timings(execution_ids: list[Any]) -> StepTimings:
    """Per-step wall, gap and overhead (ms) of the succeeded steps of these executions."""
    rows = (
        ExecutionStep.objects.filter(execution_id__in=execution_ids, status="success")
        .order_by("execution_id", "index", "attempt")
        .values_list("execution_id", "index", "started_at", "finished_at")
    )
    timings = StepTimings()
    previous: tuple[Any, Any] | None = None  # (execution_id, finished_at)
    for execution_id, index, started, finished in rows.iterator(chunk_size=5000):
        if index > 0 and started and finished:
            wall = (finished - started).total_seconds() * 1000
            timings.wall.append(wall)
            if previous is not None and previous[0] == execution_id:
                gap = (started - previous[1]).total_seconds() * 1000
                timings.gap.append(gap)
                timings.overhead.append(wall + gap)
        previous = (execution_id, finished)
    return timings


# --- counting queries --------------------------------------------------------------------

_TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"?([a-z_0-9]+)"?', re.IGNORECASE)


def query_kind(sql: str) -> str:
    """A short label for a query: verb, first table, FOR UPDATE."""
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
    table = _TABLE.search(sql)
    label = f"{verb} {table.group(1) if table else ''}".strip()
    if "FOR UPDATE" in sql.upper():
        label += " FOR UPDATE"
    if verb == "SELECT" and re.search(r"SELECT\s+COUNT\(", sql, re.IGNORECASE):
        label = label.replace("SELECT", "SELECT COUNT", 1)
    return label


class QueryCounter:
    """`connection.execute_wrapper` callable that counts queries by kind."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()

    def __call__(self, execute, sql, params, many, context):
        self.kinds[query_kind(sql)] += 1
        return execute(sql, params, many, context)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


def counted(function: Callable[[], Any]) -> tuple[Any, QueryCounter]:
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        value = function()
    return value, counter


# --- the benchmark ----------------------------------------------------------------------------


@dataclass
class EngineBenchmark:
    executions: int
    steps: int
    workers: int
    processes: int = 0
    keep: bool = False
    calibration_runs: int = 20
    timeout: float = 0
    debug: bool = False
    write: Callable[[str], None] = print
    organization: Any = None
    workflow: Any = None
    results: dict[str, Any] = field(default_factory=dict)

    def run(self) -> dict[str, Any]:
        from docg.executions import actors  # noqa: F401  (declares every queue before a worker starts)

        if self.processes and not settings.REDIS_URL:
            raise ValueError(
                "--processes needs the Redis broker (set REDIS_URL); embedded mode has in-process workers."
            )
        # Production runs with DEBUG off; with it on, Django records every query, which the figures would include.
        with override_settings(DEBUG=settings.DEBUG if self.debug else False):
            self._describe_setup()
            self._create_workflow()
            try:
                self._calibrate()
                self._load()
            finally:
                self._cleanup()
        return self.results

    # --- setup ---------------------------------------------------------------------------

    def _describe_setup(self) -> None:
        db = settings.DATABASES["default"]
        where = db["ENGINE"].rsplit(".", 1)[-1]
        broker = settings.DRAMATIQ_BROKER["BROKER"].rsplit(".", 1)[-1]
        mode = (
            f"{self.processes} rundramatiq process(es) x {self.workers} thread(s)"
            if self.processes
            else f"{self.workers} in-process worker thread(s)"
        )
        self.write(
            f"docg engine benchmark: {self.executions} executions x {self.steps} set_variables steps, {mode}\n"
            f"  database {where} ({db.get('NAME')}), broker {broker}, CONN_MAX_AGE={db.get('CONN_MAX_AGE')}, "
            f"DEBUG={settings.DEBUG}{'' if self.debug else ' (turned off for the run; --debug keeps it)'}, "
            f"{os.cpu_count()} CPU(s), load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )

    def _create_workflow(self) -> None:
        from docg.orgs.models import Organization
        from docg.workflows.services import workflow_activate, workflow_create

        stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
        # The business plan has no monthly run limit (docg/orgs/billing.py plan_run_reserve).
        self.organization = Organization.objects.create(name=f"benchmark-{stamp}", plan="business")
        self.workflow = workflow_create(
            organization=self.organization,
            by=None,
            name=f"benchmark {self.steps} steps",
            nodes=benchmark_nodes(self.steps),
        )
        workflow_activate(workflow=self.workflow, by=None)
        self.write(f"  organization {self.organization.name} ({self.organization.pk}), workflow {self.workflow.pk}")

    def _start(self, i: int, *, enqueue: bool = True) -> WorkflowExecution:
        """execution_start, as the API calls it; with enqueue=False the start message is not sent (run inline)."""
        from docg.executions import dispatch
        from docg.executions.engine import execution_start

        def start() -> WorkflowExecution:
            return execution_start(
                workflow=self.workflow, trigger_data={"n": 0, "customer": f"customer {i}"}, by=None, actor_type="system"
            )

        if enqueue:
            return start()
        with dispatch.captured():  # held here, never sent: this process runs the steps itself
            return start()

    # --- 1. calibration: queries per step, unloaded timings ----------------------------------

    def _run_inline(self, execution_id) -> tuple[QueryCounter, QueryCounter]:
        """Run one queued execution here, step by step as the actors would chain them."""
        from docg.executions.engine import execution_begin, step_run

        next_step, begin = counted(lambda: execution_begin(execution_id=execution_id))
        steps = QueryCounter()
        with connection.execute_wrapper(steps):
            while next_step is not None:
                next_step = step_run(step_id=next_step[0], queue=next_step[1])
        return begin, steps

    def _calibrate(self) -> None:
        execution, start = counted(lambda: self._start(0, enqueue=False))
        begin, steps = self._run_inline(execution.pk)
        execution.refresh_from_db()
        if execution.status != ExecutionStatus.COMPLETED:
            raise RuntimeError(f"The calibration run ended {execution.status}: {execution.last_error_tech}")
        total = start.total + begin.total + steps.total
        # The start message's work runs preflight, the trigger and the inline steps after it in one
        # transaction, so the steps' queries are counted with it: per step = the worker's whole run / steps.
        run = begin.total + steps.total
        kinds = begin.kinds + steps.kinds
        self.results["queries"] = {
            "start": start.total,
            "begin": begin.total,
            "steps": steps.total,
            "per_step": run / self.steps,
            "per_step_all_in": total / self.steps,
        }
        self.write(
            f"\nDatabase queries (one execution, in this process):\n"
            f"  start (API call)          {start.total:4d}\n"
            f"  worker: preflight, trigger and {self.steps} steps, completion (with its audit row)   "
            f"{run:4d}   ({begin.total} in the start message's transaction)\n"
            f"                            -> {run / self.steps:.1f} queries per step\n"
            f"  all in                    {total:4d}   -> {total / self.steps:.1f} queries per step (total / steps)\n"
            f"  worker queries per step, by kind: "
            + ", ".join(f"{kind} {n / self.steps:g}" for kind, n in kinds.most_common())
        )
        ids = [execution.pk]
        began = time.perf_counter()
        for i in range(1, self.calibration_runs):
            queued = self._start(i, enqueue=False)
            self._run_inline(queued.pk)
            ids.append(queued.pk)
        elapsed = time.perf_counter() - began
        timings = step_timings(ids)
        self.results["unloaded"] = timings
        self.write(
            f"\nPer-step engine time, unloaded ({len(ids)} executions one at a time in this process, no broker):\n"
            + "\n".join(
                [
                    series_line("wall", timings.wall),
                    series_line("gap", timings.gap),
                    series_line("overhead", timings.overhead),
                ]
            )
            + (f"\n  sequential: {(len(ids) - 1) / elapsed:.1f} executions/s" if len(ids) > 1 else "")
        )

    # --- 2. load --------------------------------------------------------------------------------

    def _load(self) -> None:
        began = time.perf_counter()
        ids = [self._start(i).pk for i in range(self.executions)]
        enqueue_seconds = time.perf_counter() - began
        self.write(
            f"\nQueued {len(ids)} executions in {enqueue_seconds:.2f} s "
            f"({len(ids) / enqueue_seconds:.0f}/s through execution_start)."
        )
        timeout = self.timeout or max(120.0, self.executions * 0.5)
        wall_began = time.perf_counter()
        stop = self._start_workers()
        try:
            finished = self._wait(ids, timeout)
            wall = time.perf_counter() - wall_began
        finally:
            stop()
        self._report_load(ids, finished, wall)

    def _start_workers(self) -> Callable[[], None]:
        if self.processes:
            return self._start_processes()
        import dramatiq

        worker = dramatiq.Worker(dramatiq.get_broker(), worker_threads=self.workers)
        worker.start()
        return lambda: worker.stop(timeout=30_000)

    def _start_processes(self) -> Callable[[], None]:
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open for the workers' lifetime)
            prefix="docg-benchmark-workers-", suffix=".log", delete=False
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE),
            "DEBUG": "true" if settings.DEBUG else "false",
        }
        process = subprocess.Popen(  # noqa: S603 (a fixed command line)
            [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "rundramatiq",
                "--processes",
                str(self.processes),
                "--threads",
                str(self.workers),
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.write(f"  workers: pid {process.pid}, log {log.name}")

        def stop() -> None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            log.close()

        return stop

    def _wait(self, ids: list[Any], timeout: float) -> int:
        deadline = time.monotonic() + timeout
        next_report = time.monotonic() + 5
        finished = 0
        while True:
            finished = WorkflowExecution.objects.filter(pk__in=ids, status__in=TERMINAL).count()
            if finished >= len(ids):
                return finished
            now = time.monotonic()
            if now > deadline:
                self.write(f"  gave up after {timeout:.0f} s: {finished}/{len(ids)} executions terminal")
                return finished
            if now >= next_report:
                self.write(f"  ... {finished}/{len(ids)} terminal")
                next_report = now + 5
            time.sleep(0.1)

    def _report_load(self, ids: list[Any], finished: int, wall: float) -> None:
        statuses = Counter(WorkflowExecution.objects.filter(pk__in=ids).values_list("status", flat=True))
        # The engine's own window: the first preflight began (trigger step started) to the last completion.
        first = (
            ExecutionStep.objects.filter(execution_id__in=ids, index=0)
            .order_by("started_at")
            .values_list("started_at", flat=True)
            .first()
        )
        last = (
            WorkflowExecution.objects.filter(pk__in=ids, completed_at__isnull=False)
            .order_by("-completed_at")
            .values_list("completed_at", flat=True)
            .first()
        )
        window = (last - first).total_seconds() if first and last else float("nan")
        timings = step_timings(ids)
        rate = finished / window if window and window == window else float("nan")
        self.results.update(
            {
                "statuses": dict(statuses),
                "executions_per_second": rate,
                "wall_executions_per_second": finished / wall if wall else float("nan"),
                "loaded": timings,
            }
        )
        self.write(
            f"\nLoad: {finished}/{len(ids)} terminal ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))})\n"
            f"  executions/s   {rate:8.1f}   (first preflight to last completion, {window:.2f} s)\n"
            f"  executions/s   {finished / wall:8.1f}   (wall clock from starting the workers, {wall:.2f} s, "
            "boot included)\n"
            f"  steps/s        {rate * self.steps:8.1f}\n"
            f"Per-step engine time under load:\n"
            + "\n".join(
                [
                    series_line("wall", timings.wall),
                    series_line("gap", timings.gap),
                    series_line("overhead", timings.overhead),
                ]
            )
        )

    # --- cleanup ---------------------------------------------------------------------------------

    def _cleanup(self) -> None:
        if self.workflow is None:
            return
        if self.keep:
            self.write(f"\nKept organization {self.organization.name} and its rows (--keep).")
            return
        from docg.executions.streams import execution_key, get_streams, organization_key
        from docg.workflows.services import workflow_delete

        ids = list(WorkflowExecution.objects.filter(workflow=self.workflow).values_list("pk", flat=True))
        streams = get_streams()
        for execution_id in ids:
            streams.delete(execution_key(execution_id))
        streams.delete(organization_key(self.organization.pk))
        with transaction.atomic():
            # Children first, so each delete is a plain DELETE rather than a cascade collected in Python.
            ExecutionLog.objects.filter(execution__workflow=self.workflow).delete()
            WorkflowApproval.objects.filter(execution__workflow=self.workflow).delete()
            ExecutionStep.objects.filter(execution__workflow=self.workflow).delete()
            WorkflowExecution.objects.filter(workflow=self.workflow).delete()
            workflow_delete(workflow=self.workflow, by=None)
        self.write(
            f"\nDeleted the benchmark's {len(ids)} executions (steps, logs, event streams) and its workflow. "
            f"The organization {self.organization.name} and its audit events stay: the audit table is append-only."
        )
