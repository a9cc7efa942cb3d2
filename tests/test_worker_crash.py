"""A real worker process (`manage.py rundramatiq`) killed with SIGKILL in the middle of a step.

The run must still complete: the lease sweep of a fresh worker re-enqueues the
killed step once its lease has passed. Every succeeded step has run its side
effect exactly once; the killed step reached the (loopback) provider twice, with
the same idempotency key, and has a single recorded success. The time from the
kill to the resumed attempt reaching the provider is printed and written to
test-artifacts/worker-crash.txt.
"""

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import dramatiq
import pytest
from django.conf import settings
from django.db import connection

from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.engine import execution_start
from docg.executions.models import ExecutionStep, WorkflowExecution
from docg.workflows.models import WorkflowDatastore
from docg.workflows.services import workflow_activate, workflow_create
from tests.fixtures.engine import wait_until

logger = logging.getLogger(__name__)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
STEP_LEASE_SECONDS = 2
REAPER_INTERVAL_SECONDS = 0.5
SLOW_PATH = "/effect/slow"


# --- a loopback "provider" that counts every request and can hold one open -------------


@dataclass
class Provider:
    server: ThreadingHTTPServer
    requests: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)
    slow_received: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def count(self, path: str) -> int:
        with self.lock:
            return len(self.requests[path])

    def arrivals(self, path: str) -> list[dict]:
        with self.lock:
            return list(self.requests[path])


def _handler(provider: Provider):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with provider.lock:
                arrivals = provider.requests[self.path]
                arrivals.append(
                    {
                        "at": time.monotonic(),
                        "wall": time.time(),
                        "idempotency_key": self.headers.get("Idempotency-Key"),
                        "correlation_id": self.headers.get("X-Correlation-ID"),
                        "body": body.decode(),
                    }
                )
                first_slow = self.path == SLOW_PATH and len(arrivals) == 1
            if first_slow:
                # Hold the first attempt open: its worker gets killed while it waits here.
                provider.slow_received.set()
                provider.release.wait(timeout=300)
            payload = json.dumps({"path": self.path, "attempt_seen": len(arrivals)}).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # The caller was killed.

        def log_message(self, format, *args):
            pass

    return Handler


@pytest.fixture
def provider():
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    server.daemon_threads = True
    instance = Provider(server=server)
    server.RequestHandlerClass = _handler(instance)
    thread = threading.Thread(target=server.serve_forever, name="loopback-provider", daemon=True)
    thread.start()
    yield instance
    instance.release.set()
    server.shutdown()
    server.server_close()


# --- real worker processes -------------------------------------------------------


def _database_url() -> str:
    db = connection.settings_dict  # pytest-django's test_… database
    user = quote(db.get("USER") or "", safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{quote(db['NAME'], safe='')}"


class Workers:
    """Starts `manage.py rundramatiq` in its own process group; kills whole groups."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(self) -> subprocess.Popen:
        python = Path(settings.BASE_DIR) / ".venv" / "bin" / "python"
        log_path = ARTIFACTS / f"worker-crash-worker{len(self.processes) + 1}.log"
        log = log_path.open("w")
        process = subprocess.Popen(
            [
                str(python if python.exists() else sys.executable),
                "manage.py",
                "rundramatiq",
                "--processes",
                "1",
                "--threads",
                "2",
            ],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # rundramatiq execs dramatiq, which forks: kill the whole group.
        )
        log.close()
        self.processes.append(process)
        self.logs.append(log_path)
        return process

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            self.kill(process)

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for path in self.logs:
            text = path.read_text(errors="replace").splitlines() if path.exists() else []
            out.append(f"--- {path.name} ---\n" + "\n".join(text[-lines:]))
        return "\n".join(out)


@pytest.fixture
def workers(transactional_db):
    ARTIFACTS.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "BROKER_URL": settings.BROKER_URL,
        "STEP_LEASE_SECONDS": str(STEP_LEASE_SECONDS),
        "REAPER_INTERVAL_SECONDS": str(REAPER_INTERVAL_SECONDS),
        "SSRF_ALLOWED_NETWORKS": "127.0.0.0/8",
        "DEBUG": "false",
        "DOCG_EMBEDDED_WORKER": "false",
        "PYTHONUNBUFFERED": "1",
    }
    if not settings.REDIS_URL:
        pytest.skip("Worker processes need the Redis broker (REDIS_URL).")
    broker = dramatiq.get_broker()
    broker.flush_all()  # No leftovers from earlier runs on this broker.
    # On Redis a killed worker's unacked messages wait in its ack set, to be requeued into a later run;
    # RabbitMQ hands them back to the queue when the connection drops, where flush_all finds them.
    redis = getattr(broker, "client", None)
    acks_before = set(redis.scan_iter(match="dramatiq:__acks__.*")) if redis else set()
    manager = Workers(env)
    yield manager
    manager.stop_all()  # Before pytest-django flushes the tables the workers may be using.
    broker.flush_all()
    ours = set(redis.scan_iter(match="dramatiq:__acks__.*")) - acks_before if redis else set()
    if ours:
        redis.delete(*ours)


def _report(request, line: str) -> None:
    """Show the figure whatever the capture mode, log it, and keep it in test-artifacts."""
    print(line)
    logger.warning(line)
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            sys.stdout.write(f"\n{line}\n")
            sys.stdout.flush()
    (ARTIFACTS / "worker-crash.txt").write_text(line + "\n")


# --- the test -----------------------------------------------------------------------


def test_sigkilled_worker_does_not_strand_the_run(cast, provider, workers, request):
    def call(key: str, path: str) -> dict:
        return {
            "key": key,
            "kind": "action",
            "app": "core",
            "operation": "http_request",
            "parameters": {"method": "POST", "url": provider.base_url + path, "body": {"step": key}, "timeout": 30},
        }

    nodes = [
        {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
        call("before", "/effect/before"),
        call("slow", SLOW_PATH),
        call("after", "/effect/after"),
        # A different queue (default), so the run also hops queues after the crash.
        {
            "key": "record",
            "kind": "action",
            "app": "core",
            "operation": "datastore_set",
            "parameters": {"key": "crash-test", "value": "{{ steps.slow.body.attempt_seen }}"},
        },
    ]
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="crash", nodes=nodes)
    workflow_activate(workflow=workflow, by=cast.alice)
    # A running step's lease is STEP_LEASE_SECONDS, renewed while its worker lives.
    lease = STEP_LEASE_SECONDS

    first = workers.start()
    execution = execution_start(workflow=workflow, trigger_data={"case": "sigkill"}, by=cast.alice)
    try:
        assert provider.slow_received.wait(timeout=60), "The slow step never reached the provider."
    except AssertionError:
        pytest.fail(f"The slow step never started.\n{workers.log_tail()}")
    slow_step = ExecutionStep.objects.get(execution=execution, node_key="slow")
    assert slow_step.status == StepStatus.RUNNING

    # SIGKILL the whole worker (main process and its forked worker process) mid-step.
    workers.kill(first)
    slow_step.refresh_from_db()  # the lease as last renewed by the dead worker
    killed_at = time.monotonic()
    assert first.returncode == -signal.SIGKILL
    provider.release.set()  # Free the server thread; nobody is listening on that socket any more.

    workers.start()
    try:
        wait_until(
            lambda: provider.count(SLOW_PATH) >= 2,
            timeout=lease + 45,
            what="the killed step to reach the provider again",
        )
        resumed = provider.arrivals(SLOW_PATH)[1]
        done = wait_until(
            lambda: WorkflowExecution.objects.filter(
                pk=execution.pk, status__in=[ExecutionStatus.COMPLETED, ExecutionStatus.FAILED]
            ).first(),
            timeout=30,
            what="the run to finish",
        )
    except AssertionError as exc:
        pytest.fail(f"{exc}\n{workers.log_tail()}")

    kill_to_resume = resumed["at"] - killed_at
    after_lease = resumed["wall"] - slow_step.lease_expires_at.timestamp()
    _report(
        request,
        f"worker-crash: SIGKILL -> resumed attempt reached the provider in {kill_to_resume:.2f} s, "
        f"{after_lease:.2f} s of it after the killed claim's last renewed lease expired "
        f"(STEP_LEASE_SECONDS={STEP_LEASE_SECONDS}, renewed every third of it while alive; "
        f"REAPER_INTERVAL_SECONDS={REAPER_INTERVAL_SECONDS}); run {done.status}",
    )

    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_tech)
    assert done.progress == 100

    # Side effects: every succeeded step ran exactly once; the killed one was delivered twice.
    assert provider.count("/effect/before") == 1
    assert provider.count("/effect/after") == 1
    slow_calls = provider.arrivals(SLOW_PATH)
    assert len(slow_calls) == 2
    # Same step, same attempt: the provider can deduplicate on the idempotency key.
    assert slow_calls[0]["idempotency_key"] == slow_calls[1]["idempotency_key"] == f"{execution.pk}:slow:1"
    assert {c["correlation_id"] for c in slow_calls} == {str(execution.correlation_id)}
    assert list(WorkflowDatastore.objects.filter(workflow=workflow).values_list("key", "value")) == [("crash-test", 2)]

    # Recorded steps: exactly one row, and one success, per node; the killed step's single row succeeded.
    steps = list(ExecutionStep.objects.filter(execution=execution).order_by("index", "attempt"))
    assert [(s.node_key, s.status, s.attempt) for s in steps] == [
        ("start", StepStatus.SUCCESS, 1),
        ("before", StepStatus.SUCCESS, 1),
        ("slow", StepStatus.SUCCESS, 1),
        ("after", StepStatus.SUCCESS, 1),
        ("record", StepStatus.SUCCESS, 1),
    ]
    assert steps[2].pk == slow_step.pk
    assert steps[2].data_out["body"] == {"path": SLOW_PATH, "attempt_seen": 2}
