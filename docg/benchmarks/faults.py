"""`manage.py benchmark faults`: runs under injected faults, with the Procfile's workers and default settings.

Scenario: N runs of webhook → `http_request` (a loopback provider that takes
`--call-seconds` per call and counts every call by Idempotency-Key) →
`set_variables` → `http_request`, on `--workers` Procfile `worker` processes.
While they run, one kind of fault is injected:

- worker-kill: SIGKILL a worker process group (then start a new one, as a
  platform restarts it), `--kills` times;
- pg-blip: `pg_terminate_backend` every worker connection to the database, `--kills` times;
- redis-blip: a private redis-server (event streams, and the broker when it is Redis) is killed while
  provider calls are in flight, and started again empty once they returned (so
  the sends after their commits failed).

Reported per fault: runs, lost (never terminal) / stuck (not completed),
duplicate provider calls (calls beyond the first per Idempotency-Key), the
time from a kill to each orphaned step's resumed call (p50, max), and from the
fault to the last run's completion. The tests in tests/test_faults.py run the
same scenarios, small, and assert the goals.
"""

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.db import connection, transaction

from docg.benchmarks.engine import percentile
from docg.benchmarks.procfile import procfile_process
from docg.executions import dispatch, outbox
from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.models import ExecutionStep, WorkerHeartbeat, WorkflowExecution
from docg.executions.state import TERMINAL

CALLS = ("first", "second")


def fault_nodes(provider_url: str) -> list[dict]:
    """webhook → http_request → set_variables → http_request."""

    def call(key: str) -> dict:
        return {
            "key": key,
            "kind": "action",
            "app": "core",
            "operation": "http_request",
            "parameters": {"method": "POST", "url": f"{provider_url}/{key}", "body": {"n": "{{ trigger.n }}"},
                           "timeout": 60},
        }  # fmt: skip

    return [
        {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
        call("first"),
        {"key": "between", "kind": "action", "app": "core", "operation": "set_variables",
         "parameters": {"variables": {"seen": "{{ steps.first.status }}"}}},
        call("second"),
    ]  # fmt: skip


# --- the provider -------------------------------------------------------------------


class CountingProvider:
    """A loopback HTTP provider: each call takes `delay` seconds; calls are counted by Idempotency-Key."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.calls: list[dict] = []  # {"key", "at" (monotonic), "done"}
        self.in_flight = 0
        self.answered = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with provider.lock:
                    provider.calls.append({"key": self.headers.get("Idempotency-Key"), "at": time.monotonic()})
                    provider.in_flight += 1
                try:
                    threading.Event().wait(provider.delay)  # the provider's own work
                    body = json.dumps({"ok": True}).encode()
                    with contextlib.suppress(OSError):  # the caller may have been killed
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                finally:
                    with provider.lock:
                        provider.in_flight -= 1
                        provider.answered += 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def duplicates(self) -> int:
        with self.lock:
            counts = Counter(call["key"] for call in self.calls)
        return sum(n - 1 for n in counts.values())

    def duplicated(self) -> set[str]:
        with self.lock:
            counts = Counter(call["key"] for call in self.calls)
        return {key for key, n in counts.items() if n > 1}

    def first_call_after(self, key: str, moment: float) -> float | None:
        with self.lock:
            return next((c["at"] for c in self.calls if c["key"] == key and c["at"] > moment), None)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- worker processes ----------------------------------------------------------------


class Workers:
    """The Procfile's `worker` line, each in its own process group."""

    def __init__(self, env: dict[str, str], log_dir: str | None = None, prefix: str = "fault") -> None:
        self.env = env
        self.log_dir = log_dir
        self.prefix = prefix
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        output = subprocess.DEVNULL
        if self.log_dir:
            output = open(os.path.join(self.log_dir, f"{self.prefix}-worker{len(self.processes) + 1}.log"), "w")  # noqa: SIM115
        _, process = procfile_process("worker", port=0, env=self.env, output=output)
        self.processes.append(process)
        return process

    def alive(self) -> list[subprocess.Popen]:
        return [p for p in self.processes if p.poll() is None]

    def heartbeat_ids(self, process: subprocess.Popen) -> list[uuid.UUID]:
        """The heartbeat rows of this worker's processes (the forked Dramatiq worker process)."""
        pids = _descendants(process.pid)
        return list(WorkerHeartbeat.objects.filter(pid__in=pids).values_list("pk", flat=True))

    def kill(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill(process)


def _descendants(root: int) -> set[int]:
    from docg.benchmarks.webhook import descendants

    return descendants(root)


def wait_for(condition, *, timeout: float, what: str, poll: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"Timed out after {timeout:.0f} s waiting for {what}.")
        threading.Event().wait(poll)


class RedisServer:
    """A private, non-persistent redis-server on a free loopback port (restartable: it loses everything)."""

    def __init__(self):
        from docg.benchmarks.procfile import free_port

        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self) -> None:
        import shutil

        import redis

        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is not installed on this machine.")
        self.process = subprocess.Popen(  # noqa: S603 (the installed redis-server, fixed arguments)
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            try:
                return redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
            except redis.RedisError:
                return False

        wait_for(answers, timeout=10, what=f"redis-server on {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


# --- one scenario ------------------------------------------------------------------


@dataclass
class FaultResult:
    fault: str
    runs: int
    lost: int = 0
    stuck: int = 0
    duplicates: int = 0
    calls_in_flight_at_faults: int = 0
    resumed_seconds: list[float] = field(default_factory=list)  # kill → each orphaned step's resumed call
    orphaned: set[str] = field(default_factory=set)  # the Idempotency-Keys of the steps a kill orphaned
    duplicated: set[str] = field(default_factory=set)  # the keys the provider saw more than once
    recovery_seconds: float = 0.0  # last fault → last run completed
    notes: list[str] = field(default_factory=list)

    def row(self) -> str:
        resumed = (
            f"p50 {percentile(self.resumed_seconds, 50):.1f} s, max {max(self.resumed_seconds):.1f} s"
            if self.resumed_seconds
            else "none orphaned"
        )
        return (
            f"| {self.fault} | {self.runs} | {self.lost} / {self.stuck} | {self.duplicates} "
            f"(of {self.calls_in_flight_at_faults} in flight) | orphaned step resumed: {resumed}; "
            f"last run {self.recovery_seconds:.1f} s after the last fault |"
        )


def start_runs(workflow, count: int, *, through_outbox: bool = False) -> list[str]:
    """Start `count` runs. `through_outbox`: their start messages go through the outbox (for workers on
    another broker than this process's), sent by the workers' drain."""
    from docg.audit.choices import ActorType
    from docg.executions.engine import execution_start

    ids = []
    if not through_outbox:
        for n in range(count):
            ids.append(str(execution_start(workflow=workflow, trigger_data={"n": n}, actor_type=ActorType.WEBHOOK).pk))
        return ids
    from django.conf import settings

    with dispatch.captured() as sent:
        for n in range(count):
            ids.append(str(execution_start(workflow=workflow, trigger_data={"n": n}, actor_type=ActorType.WEBHOOK).pk))
    late = -int(settings.OUTBOX_RESEND_AFTER_SECONDS * 1000) - 1
    with transaction.atomic():
        for message in sent:
            outbox.outbox_write(queue=message.queue, object_id=message.object_id, delay_ms=late)
    return ids


def run_fault(
    *,
    fault: str,
    workflow,
    provider: CountingProvider,
    workers: Workers,
    runs: int,
    kills: int = 1,
    redis=None,
    timeout: float = 300,
) -> FaultResult:
    """Run `runs` runs on the started `workers` while injecting `fault` `kills` times; measure."""
    result = FaultResult(fault=fault, runs=runs)
    wait_for(lambda: WorkerHeartbeat.objects.count() >= len(workers.alive()), timeout=60, what="the workers to beat")
    ids = start_runs(workflow, runs, through_outbox=fault == "redis-blip")
    last_fault = time.monotonic()
    for round_ in range(kills):
        if fault == "worker-kill":
            # A worker dies while others live: the previous kill's replacement has booted and beats (killing
            # the last live worker would measure how long a new one takes to boot, not the takeover).
            wait_for(
                lambda: all(workers.heartbeat_ids(p) for p in workers.alive()), timeout=timeout, what="workers to beat"
            )
        # Strike while calls are in flight (or the runs are over).
        floor, seen = provider.answered, []

        def striking(floor=floor, seen=seen) -> bool:
            in_flight = provider.in_flight  # read once: the count that decided is the count reported
            if in_flight >= 2 and provider.answered > floor:
                seen.append(in_flight)
                return True
            return _all_terminal(ids)

        wait_for(striking, timeout=timeout, what="provider calls in flight")
        if not seen:
            result.notes.append(f"the runs ended before fault {round_ + 1}")
            break
        result.calls_in_flight_at_faults += seen[-1]
        if fault == "worker-kill":
            # The worker with the most steps in flight (a kill between calls orphans nothing to measure).
            victim, dead_ids = max(
                ((p, workers.heartbeat_ids(p)) for p in workers.alive()),
                key=lambda pair: ExecutionStep.objects.filter(status=StepStatus.RUNNING, worker_id__in=pair[1]).count(),
            )
            workers.kill(victim)
            last_fault = time.monotonic()
            orphans = list(
                ExecutionStep.objects.filter(status=StepStatus.RUNNING, worker_id__in=dead_ids).values_list(
                    "execution_id", "node_key", "attempt"
                )
            )
            workers.start()  # a platform restarts the dead process
            for execution_id, node_key, attempt in orphans:
                key = f"{execution_id}:{node_key}:{attempt}"
                result.orphaned.add(key)
                resumed = wait_for(
                    lambda key=key, at=last_fault: provider.first_call_after(key, at) or _step_done(key),
                    timeout=timeout,
                    what=f"orphaned step {key} to resume",
                )
                if isinstance(resumed, float):
                    result.resumed_seconds.append(resumed - last_fault)
        elif fault == "pg-blip":
            with connection.cursor() as cursor:
                # The workers' connections (named by PGAPPNAME): this process's own pool is not the subject.
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = %s",
                    [WORKER_APPLICATION_NAME],
                )
            last_fault = time.monotonic()
        elif fault == "redis-blip":
            answered = provider.answered
            redis.stop()
            last_fault = time.monotonic()
            # Down until calls that were in flight have returned: their steps' sends after commit fail.
            wait_for(lambda answered=answered: provider.answered >= answered + 2, timeout=60, what="calls to return")
            redis.start()
            last_fault = time.monotonic()
        else:
            raise ValueError(f"Unknown fault {fault!r}.")
    try:
        wait_for(lambda: _all_terminal(ids), timeout=timeout, what="every run to end")
    except TimeoutError as exc:
        result.notes.append(str(exc))
    finished = WorkflowExecution.objects.filter(pk__in=ids)
    last = max((e.completed_at for e in finished if e.completed_at), default=None)
    if last is not None:
        result.recovery_seconds = max(0.0, last.timestamp() - (time.time() - (time.monotonic() - last_fault)))
    result.lost = finished.exclude(status__in=TERMINAL).count()
    result.stuck = finished.exclude(status=ExecutionStatus.COMPLETED).count()
    if result.stuck:  # say why, so a stuck run can be told from a lost one without the database
        why = finished.exclude(status=ExecutionStatus.COMPLETED).values_list("status", "last_error_code")
        result.notes.append("not completed: " + ", ".join(sorted(f"{s} {c or '-'}" for s, c in why)))
    result.duplicates = provider.duplicates()
    result.duplicated = provider.duplicated()
    return result


def _all_terminal(ids: list[str]) -> bool:
    return not WorkflowExecution.objects.filter(pk__in=ids).exclude(status__in=TERMINAL).exists()


def _step_done(key: str) -> bool:
    """Recorded one way or another (a step that ended without calling again resumed nothing to measure)."""
    execution_id, node_key, attempt = key.rsplit(":", 2)
    return ExecutionStep.objects.filter(
        execution_id=execution_id,
        node_key=node_key,
        attempt=attempt,
        status__in=[StepStatus.SUCCESS, StepStatus.FAILURE, StepStatus.SKIPPED],
    ).exists()


WORKER_APPLICATION_NAME = "docg-fault-worker"


def worker_env(**extra: str) -> dict[str, str]:
    env = {
        "SSRF_ALLOWED_NETWORKS": "127.0.0.0/8",
        "DOCG_EMBEDDED_WORKER": "false",
        "PYTHONUNBUFFERED": "1",
        "PGAPPNAME": WORKER_APPLICATION_NAME,  # libpq's: the database blip terminates only the workers' connections
    }
    env.update(extra)
    return env


# --- the benchmark: every fault, full size, default settings ----------------------------------


FAULTS = ("worker-kill", "pg-blip", "redis-blip")


def faults_benchmark(
    *,
    runs: int,
    worker_processes: int,
    kills: int,
    call_seconds: float,
    timeout: float,
    write,
    faults: tuple[str, ...] = FAULTS,
    log_dir: str | None = None,
) -> list[FaultResult]:
    """`manage.py benchmark faults`: each fault on fresh workers; writes the table, returns the results.
    `log_dir`: where the workers' output goes (one file per worker and fault), else nowhere."""
    import dramatiq

    from docg.orgs.models import Organization
    from docg.workflows.services import workflow_activate, workflow_create

    organization = Organization.objects.create(name=f"faults-{uuid.uuid4().hex[:8]}", plan="business")
    provider = CountingProvider(delay=call_seconds)
    workflow = workflow_create(organization=organization, by=None, name="faults", nodes=fault_nodes(provider.url))
    workflow_activate(workflow=workflow, by=None)
    from django.conf import settings

    write(
        f"docg fault benchmark: {runs} runs of webhook → http_request ({call_seconds:g} s) → set_variables → "
        f"http_request on {worker_processes} Procfile worker(s); STEP_LEASE_SECONDS={settings.STEP_LEASE_SECONDS}, "
        f"REAPER_INTERVAL_SECONDS={settings.REAPER_INTERVAL_SECONDS:g}, "
        f"WORKER_HEARTBEAT_SECONDS={settings.WORKER_HEARTBEAT_SECONDS:g}/"
        f"{settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS:g}, broker {settings.BROKER_URL.split('://')[0]}"
    )
    results = []
    try:
        for fault in faults:
            provider.calls.clear()
            redis = RedisServer() if fault == "redis-blip" else None
            env = worker_env(**({"REDIS_URL": redis.url} if redis else {}))
            if redis and settings.BROKER_URL.startswith("redis"):
                env["BROKER_URL"] = redis.url  # the broker dies with it; RabbitMQ keeps its queues, only events go
            if not redis:
                dramatiq.get_broker().flush_all()
            workers = Workers(env, log_dir=log_dir, prefix=fault)
            for _ in range(worker_processes):
                workers.start()
            try:
                result = run_fault(
                    fault=fault, workflow=workflow, provider=provider, workers=workers, runs=runs,
                    kills=1 if fault == "redis-blip" else kills, redis=redis, timeout=timeout,
                )  # fmt: skip
            finally:
                workers.stop_all()
                if redis:
                    redis.stop()
            results.append(result)
            write(result.row() + (f" {result.notes}" if result.notes else ""))
    finally:
        provider.stop()
        _cleanup(workflow)
    write("| fault | runs | lost / stuck | duplicate provider calls | recovery |")
    for result in results:
        write(result.row())
    return results


def _cleanup(workflow) -> None:
    """The benchmark's runs and workflow go; its organization and audit rows stay (append-only)."""
    from docg.executions.models import ExecutionLog, WorkflowApproval
    from docg.executions.streams import execution_key, get_streams
    from docg.workflows.services import workflow_delete

    streams = get_streams()
    for execution_id in WorkflowExecution.objects.filter(workflow=workflow).values_list("pk", flat=True):
        streams.delete(execution_key(execution_id))
    with transaction.atomic():
        ExecutionLog.objects.filter(execution__workflow=workflow).delete()
        WorkflowApproval.objects.filter(execution__workflow=workflow).delete()
        ExecutionStep.objects.filter(execution__workflow=workflow).delete()
        WorkflowExecution.objects.filter(workflow=workflow).delete()
        workflow_delete(workflow=workflow, by=None)
