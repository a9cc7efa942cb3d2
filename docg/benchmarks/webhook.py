"""`manage.py benchmark webhook`: the path users take, from an HTTP POST to a completed run.

The benchmark starts the real server as the Procfile does (its `web` line and
its `worker` line, the latter `--worker-processes` times), on a free port, with
the configured database and broker. It creates a throwaway organization with a
webhook → K `core.set_variables` steps workflow and then, from this process, with
async httpx:

1. Single requests at low load: one POST at a time, each followed to its run's
   completion. Latency = the run's `completed_at` (written by the worker) minus
   the moment the request was sent; both clocks are this machine's.
2. Load: N POSTs at concurrency C. Reported: accepted requests/s, request p50/p99,
   completed runs/s (first request sent → last run terminal), and CPU per run:
   the user+system time of every server process (web, workers and their children,
   from /proc) and of the PostgreSQL backends serving this database, divided by
   the runs.

Nothing is turned off for speed: every step, log, event and audit row is
written as in production. Afterwards the benchmark's executions, event streams
and workflow are deleted (the organization and its audit rows stay: the audit
table is append-only).
"""

import asyncio
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from docg.benchmarks.engine import EngineBenchmark, benchmark_nodes, percentile
from docg.benchmarks.procfile import free_port, procfile_process, stop_processes, wait_until_up
from docg.executions.models import WorkflowExecution
from docg.executions.state import TERMINAL

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def descendants(root: int) -> set[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


_OWN_BACKENDS: set[int] = set()


def database_backends() -> set[int]:
    """The backends serving this database, less this process's own (each thread has its connection)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_backend_pid(), array_agg(pid) FROM pg_stat_activity WHERE datname = current_database()"
        )
        own, pids = cursor.fetchone()
    _OWN_BACKENDS.add(own)
    return set(pids or ()) - _OWN_BACKENDS


@dataclass
class CpuMeter:
    """CPU seconds spent by sets of processes between start() and stop(), by kind (web, worker).

    PostgreSQL backends come and go with connections (one per web request without a pool), and a
    backend that exits takes its CPU time with it: a sampler thread reads the backends of this
    database every SAMPLE_SECONDS and keeps the last figure of each, so a short-lived backend counts
    for what it had used when last seen (a lower bound; exact for pooled or persistent connections).
    """

    SAMPLE_SECONDS = 0.02

    roots: dict[str, list[int]]
    postgres: bool
    before: dict[int, float] = field(default_factory=dict)
    before_db: dict[int, float] = field(default_factory=dict)
    last_db: dict[int, float] = field(default_factory=dict)
    _stop: Any = None
    _sampler: Any = None

    def _server_pids(self, kind: str) -> set[int]:
        return set().union(*(descendants(root) for root in self.roots[kind]))

    def start(self) -> None:
        import threading

        self.before = {pid: cpu_seconds(pid) for kind in self.roots for pid in self._server_pids(kind)}
        if not self.postgres:
            return
        self.before_db = {pid: cpu_seconds(pid) for pid in database_backends()}
        self.last_db = dict(self.before_db)
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="benchmark-pg-sampler", daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        from django.db import connection as thread_connection

        try:
            while not self._stop.wait(self.SAMPLE_SECONDS):
                self._read_backends()
        finally:
            thread_connection.close()

    def _read_backends(self) -> None:
        for pid in database_backends():
            used = cpu_seconds(pid)
            if used:
                self.last_db[pid] = max(used, self.last_db.get(pid, 0.0))

    def stop(self) -> tuple[dict[str, float], float]:
        server = {
            kind: sum(cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in self._server_pids(kind))
            for kind in self.roots
        }
        database = 0.0
        if self.postgres:
            self._stop.set()
            self._sampler.join()
            self._read_backends()
            database = sum(used - self.before_db.get(pid, 0.0) for pid, used in self.last_db.items())
        return server, database


@dataclass
class WebhookBenchmark:
    requests: int = 2000
    concurrency: int = 20
    steps: int = 5
    single: int = 50
    worker_processes: int = 1
    timeout: float = 600
    keep: bool = False
    write: Any = print
    organization: Any = None
    workflow: Any = None
    results: dict[str, Any] = field(default_factory=dict)
    _processes: list[subprocess.Popen] = field(default_factory=list)

    def run(self) -> dict[str, Any]:
        import logging

        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the figures
        if not settings.REDIS_URL:
            raise ValueError("benchmark webhook starts separate web and worker processes: set REDIS_URL.")
        self._create_workflow()
        try:
            port = self._start_server()
            base = f"http://127.0.0.1:{port}"
            asyncio.run(self._measure(base))
        finally:
            self._stop_server()
            self._cleanup()
        return self.results

    # --- set-up -------------------------------------------------------------------------------

    def _create_workflow(self) -> None:
        from docg.orgs.models import Organization
        from docg.workflows.services import workflow_activate, workflow_create

        stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
        self.organization = Organization.objects.create(name=f"benchmark-{stamp}", plan="business")
        self.workflow = workflow_create(
            organization=self.organization, by=None, name=f"webhook benchmark {self.steps} steps",
            nodes=benchmark_nodes(self.steps),
        )  # fmt: skip
        workflow_activate(workflow=self.workflow, by=None)
        self.write(f"  organization {self.organization.name}, workflow {self.workflow.pk} ({self.steps} steps)")

    def _start_server(self) -> int:
        port = free_port()
        # As in production: with DEBUG on, Django keeps every query of every request in memory.
        env = {"DEBUG": "false"}
        self.log = tempfile.NamedTemporaryFile(prefix="docg-benchmark-server-", suffix=".log", delete=False)  # noqa: SIM115
        for kind in ["web"] + ["worker"] * self.worker_processes:
            line, process = procfile_process(kind, port=port, env=env, output=self.log)
            self.write(f"  $ {line}")
            self._processes.append(process)
        self.write(f"  broker {settings.DRAMATIQ_BROKER['BROKER'].rsplit('.', 1)[-1]}, server log: {self.log.name}")
        self._wait_until_up(port)
        return port

    def _wait_until_up(self, port: int) -> None:
        wait_until_up(port, self._processes, self.log.name)

    def _stop_server(self) -> None:
        stop_processes(self._processes)
        self._processes.clear()

    # --- measuring ----------------------------------------------------------------------------

    async def _measure(self, base: str) -> None:
        import httpx

        url = f"{base}/hooks/{self.workflow.pk}/{self.workflow.webhook_secret}"
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=self.concurrency)) as client:
            # Warm-up: the first requests pay for imports and connections.
            await self._wait_done([await self._post(client, url, i) for i in range(5)], 60)
            await self._single(client, url)
            await self._load(client, url)

    async def _post(self, client, url: str, i: int) -> str:
        response = await client.post(url, json={"n": 0, "customer": f"customer {i}"}, timeout=60)
        if response.status_code != 202:
            raise RuntimeError(f"POST {url} answered {response.status_code}: {response.text[:300]}")
        return response.json()["execution_id"]

    async def _wait_done(self, ids: list[str], timeout: float) -> int:
        from asgiref.sync import sync_to_async

        def terminal() -> int:
            return WorkflowExecution.objects.filter(pk__in=ids, status__in=TERMINAL).count()

        deadline = time.monotonic() + timeout
        while True:
            done = await sync_to_async(terminal)()
            if done >= len(ids) or time.monotonic() > deadline:
                return done
            await asyncio.sleep(0.002 if len(ids) == 1 else 0.2)

    async def _single(self, client, url: str) -> None:
        from asgiref.sync import sync_to_async

        latencies, requests_ms = [], []
        for i in range(self.single):
            sent = timezone.now()
            started = time.perf_counter()
            execution_id = await self._post(client, url, i)
            requests_ms.append((time.perf_counter() - started) * 1000)
            await self._wait_done([execution_id], 30)
            run = await sync_to_async(WorkflowExecution.objects.values("status", "completed_at").get)(pk=execution_id)
            if run["status"] != "completed":
                raise RuntimeError(f"Run {execution_id} ended {run['status']}")
            latencies.append((run["completed_at"] - sent).total_seconds() * 1000)
        self.results["single"] = {"request": requests_ms, "completed": latencies}
        if not self.single:
            return  # --single 0: no figure to print, rather than a NaN
        self.write(f"\nSingle requests, one at a time ({self.single}):")
        self.write(f"  POST answered        {_p50_p99(requests_ms)}")
        self.write(f"  webhook → completed  {_p50_p99(latencies)}")

    async def _load(self, client, url: str) -> None:
        from asgiref.sync import sync_to_async

        roots = {"web": [self._processes[0].pid], "workers": [p.pid for p in self._processes[1:]]}
        meter = CpuMeter(roots, postgres=connection.vendor == "postgresql")
        await sync_to_async(meter.start)()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(self.requests):
            queue.put_nowait(i)
        ids: list[str] = []
        latencies: list[float] = []

        async def sender() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                started = time.perf_counter()
                ids.append(await self._post(client, url, i))
                latencies.append((time.perf_counter() - started) * 1000)

        first = timezone.now()
        began = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(self.concurrency)))
        accepted_wall = time.perf_counter() - began
        done = await self._wait_done(ids, self.timeout)
        by_kind, database_cpu = await sync_to_async(meter.stop)()
        server_cpu = sum(by_kind.values())
        last = await sync_to_async(
            lambda: WorkflowExecution.objects.filter(pk__in=ids)
            .order_by("-completed_at")
            .values_list("completed_at", flat=True)
            .first()
        )()
        statuses = await sync_to_async(
            lambda: dict(WorkflowExecution.objects.filter(pk__in=ids).values_list("status").annotate(n=Count("id")))
        )()
        completed_wall = (last - first).total_seconds() if last else float("nan")
        self.results["load"] = {
            "requests": self.requests, "concurrency": self.concurrency, "accepted_per_s": self.requests / accepted_wall,
            "request_p50_ms": percentile(latencies, 50), "request_p99_ms": percentile(latencies, 99),
            "completed_per_s": done / completed_wall, "cpu_ms_per_run": server_cpu * 1000 / max(done, 1),
            "web_cpu_ms_per_run": by_kind["web"] * 1000 / max(done, 1),
            "workers_cpu_ms_per_run": by_kind["workers"] * 1000 / max(done, 1),
            "postgres_cpu_ms_per_run": database_cpu * 1000 / max(done, 1), "statuses": statuses,
        }  # fmt: skip
        r = self.results["load"]
        w = self.write
        w(
            f"\nLoad: {self.requests} POSTs at concurrency {self.concurrency}, "
            f"{self.worker_processes} worker process(es):"
        )
        w(f"  accepted             {r['accepted_per_s']:7.1f} req/s   request {_p50_p99(latencies)}")
        w(f"  completed            {r['completed_per_s']:7.1f} runs/s  ({done}/{self.requests} terminal: {statuses})")
        w(
            f"  CPU per run          {r['cpu_ms_per_run']:7.1f} ms web + workers "
            f"({r['web_cpu_ms_per_run']:.1f} web, {r['workers_cpu_ms_per_run']:.1f} workers)"
        )
        w(f"                       {r['postgres_cpu_ms_per_run']:7.1f} ms PostgreSQL backends of this database")

    # --- clean-up -----------------------------------------------------------------------------

    def _cleanup(self) -> None:
        if self.workflow is None or self.keep:
            return
        EngineBenchmark(executions=0, steps=self.steps, workers=0, write=self.write, organization=self.organization,
                        workflow=self.workflow)._cleanup()  # fmt: skip


def _p50_p99(values_ms: list[float]) -> str:
    return f"p50 {percentile(values_ms, 50):7.1f} ms   p99 {percentile(values_ms, 99):7.1f} ms"
