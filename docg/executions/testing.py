"""Test helpers for the engine: a real Dramatiq worker (threads, on the configured broker) and waiting."""

import time
from collections.abc import Callable
from typing import Any

import dramatiq
import pytest

from docg.executions.models import WorkflowExecution


def wait_until(condition: Callable[[], Any], *, timeout: float = 15.0, what: str = "the condition") -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(0.02)


def wait_for_status(execution_id, *statuses: str, timeout: float = 15.0) -> WorkflowExecution:
    def reached():
        execution = WorkflowExecution.objects.get(pk=execution_id)
        return execution if execution.status in statuses else None

    return wait_until(reached, timeout=timeout, what=f"execution {execution_id} to be {'/'.join(statuses)}")


@pytest.fixture
def worker(transactional_db, settings):
    """A Dramatiq worker on the real broker, in this process, for the test's duration."""
    settings.REAPER_INTERVAL_SECONDS = 0.5
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    yield worker
    worker.stop()
    broker.flush_all()


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a child process (server, worker) that uses this test's database and Redis."""
    import os

    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",  # same hashers and defaults as the test process
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        SECRET_KEY=settings.SECRET_KEY,
        FERNET_KEYS=",".join(settings.FERNET_KEYS),
        DEBUG="false",
        DOCG_EMBEDDED_WORKER="false",
    )
    env.update(extra)
    return env


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`daphne` serving config.asgi on a loopback port, in its own process group."""

    def __init__(self, port: int | None = None, **env: str):
        import subprocess
        import sys
        from pathlib import Path

        from django.conf import settings

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        daphne = Path(sys.executable).with_name("daphne")
        self.process = subprocess.Popen(  # noqa: S603 (fixed command line)
            [str(daphne), "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
            cwd=settings.BASE_DIR,
            env=subprocess_env(**env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        wait_until(self._answers, timeout=30, what=f"daphne on port {self.port}")

    def _answers(self) -> bool:
        import httpx

        if self.process.poll() is not None:
            raise AssertionError(f"daphne exited: {self.process.stderr.read().decode()[-2000:]}")
        try:
            return httpx.get(f"{self.url}/api/v1/sse/health", timeout=1).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        import contextlib
        import os
        import signal

        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        if not _group_gone(self.process, timeout=15):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            _group_gone(self.process, timeout=10)


@pytest.fixture(scope="session")
def live_server_asgi(django_db_setup, django_db_blocker):
    """One daphne for the session; tests that use it also need transactional_db (it reads committed rows)."""
    server = LiveServer(SSE_HEARTBEAT_SECONDS="0.3", STREAM_TOKEN_TTL_SECONDS="60")
    yield server
    server.stop()


class ChildProcess:
    """A child process in its own process group (rundramatiq forks), output kept in a log file."""

    def __init__(self, args: list[str], *, name: str, **env: str):
        import subprocess
        import sys
        from pathlib import Path

        from django.conf import settings

        artifacts = Path(settings.BASE_DIR) / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        self.log_path = artifacts / f"{name}.log"
        executable = Path(sys.executable).with_name(args[0]) if args[0] in ("python", "daphne") else Path(args[0])
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(  # noqa: S603 (fixed command lines from tests)
                [str(executable), *args[1:]],
                cwd=settings.BASE_DIR,
                env=subprocess_env(PYTHONUNBUFFERED="1", **env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self, sig: int | None = None) -> None:
        import contextlib
        import os
        import signal

        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig or signal.SIGTERM)
        if not _group_gone(self.process, timeout=15):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            _group_gone(self.process, timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        return "\n".join(text[-lines:])


def _group_gone(process, *, timeout: float) -> bool:
    """Wait until the whole process group (forked workers included) has exited."""
    import os
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def worker_process(name: str = "worker", **env: str) -> ChildProcess:
    """`manage.py rundramatiq` on this test's database and Redis."""
    return ChildProcess(["python", "manage.py", "rundramatiq", "--processes", "1", "--threads", "2"], name=name, **env)


class RedisServer:
    """A private, non-persistent redis-server on a free loopback port (restartable: it loses everything)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self) -> None:
        import shutil
        import subprocess

        import redis

        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is not installed on this machine.")
        self.process = subprocess.Popen(  # noqa: S603 (fixed command line)
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            try:
                return redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
            except redis.RedisError:
                return False

        wait_until(answers, timeout=10, what=f"redis-server on {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


DELAYED_FLOW = [
    {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
    {"key": "prepare", "kind": "action", "app": "core", "operation": "set_variables",
     "parameters": {"variables": {"customer": "{{ trigger.customer }}"}}},
    {"key": "wait", "kind": "action", "app": "core", "operation": "delay", "parameters": {"seconds": 2}},
    {"key": "finish", "kind": "action", "app": "core", "operation": "set_variables",
     "parameters": {"variables": {"done": True}}},
]  # fmt: skip


def start_delayed_run(server: LiveServer, user, organization, name: str) -> tuple[str, dict]:
    """Activate DELAYED_FLOW and start it through the live server's API; return (execution id, auth headers).

    The run pauses two seconds in its `wait` step: long enough to cut a server or Redis mid-run.
    """
    import httpx

    from docg.common.testing import api_client_for
    from docg.workflows.services import workflow_activate, workflow_create

    workflow = workflow_create(organization=organization, by=user, name=name, nodes=DELAYED_FLOW)
    workflow_activate(workflow=workflow, by=user)
    headers = {"Authorization": api_client_for(user)._credentials["HTTP_AUTHORIZATION"]}
    started = httpx.post(
        f"{server.url}/api/v1/workflows/{workflow.pk}/executions",
        headers=headers,
        json={"trigger_data": {"customer": "Ana"}},
        timeout=10,
    )
    assert started.status_code == 202, started.text
    return started.json()["id"], headers


def wait_for_delay_step(execution_id) -> None:
    from docg.executions.choices import StepStatus
    from docg.executions.models import ExecutionStep

    wait_until(
        lambda: ExecutionStep.objects.filter(
            execution_id=execution_id, node_key="wait", status=StepStatus.SUCCESS
        ).exists(),
        timeout=30,
        what="the delay step to be scheduled",
    )
