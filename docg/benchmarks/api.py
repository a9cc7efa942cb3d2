"""`manage.py benchmark api`: `GET /api/v1/executions/{id}` against the web process the Procfile starts.

The benchmark starts the Procfile's `web` line on a free port (`--web-processes N` sets
WEB_CONCURRENCY, uvicorn's --workers), creates a throwaway organization with one finished run,
and reads that run with async httpx, once signed in with a JWT and once with an API key:

1. Closed loop: N GETs at concurrency C (each client sends its next request when the last one
   is answered). Reported: req/s, request p50/p99, and CPU per request: user+system time of the
   web process tree and of the PostgreSQL backends of this database (from /proc), divided by the
   requests. In a closed loop, latency is bounded below by C / throughput (Little's law).
2. Open loop (`--rate R`): C clients that together send R requests/s on a fixed schedule,
   whether or not earlier answers came back, for about N requests. This is the latency a
   client sees at a given load, without the queue a closed loop builds on purpose.

Queries per request are counted in this process on the same request (Django's test client,
the same middleware, authentication and view), since a server in another process cannot be
asked. The load generator shares the machine: its own CPU is reported beside the server's.
"""

import asyncio
import os
import resource
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from docg.benchmarks.engine import percentile
from docg.benchmarks.procfile import free_port, procfile_process, stop_processes, wait_until_up
from docg.benchmarks.webhook import CpuMeter, cpu_seconds


@dataclass
class ApiBenchmark:
    requests: int = 2000
    concurrency: int = 50
    rate: float = 0
    web_processes: int = 1
    profile: str = ""
    keep: bool = False
    write: Any = print
    results: dict[str, Any] = field(default_factory=dict)
    _server: subprocess.Popen | None = None

    def run(self) -> dict[str, Any]:
        import logging

        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the figures
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        execution, credentials = self._fixtures()
        from django.urls import reverse

        path = reverse("execution-detail", args=[execution.pk])
        for name, headers in credentials.items():
            self.results.setdefault(name, {})["queries"] = self._queries(path, headers)
        try:
            port = self._start_server()
            # The load generator on uvloop, as the server is: its own CPU per request competes on 2 cores.
            import uvloop

            uvloop.run(self._measure(f"http://127.0.0.1:{port}", path, credentials))
        finally:
            self._stop_server()
            if not self.keep:
                self._cleanup(execution)
        return self.results

    # --- set-up -------------------------------------------------------------------------------
    def _fixtures(self):
        from rest_framework_simplejwt.tokens import AccessToken

        from docg.executions.models import WorkflowExecution
        from docg.orgs.api_keys import api_key_create
        from docg.orgs.choices import Role
        from docg.orgs.models import Membership, User
        from docg.orgs.services import organization_create
        from docg.workflows.services import workflow_activate, workflow_create

        stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
        user = User.objects.create_user(email=f"bench-api-{stamp}@docg.local", password=None)
        self.organization = organization_create(name=f"benchmark-api-{stamp}", owner=user)
        nodes = [
            {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
            {"key": "noop", "kind": "action", "app": "core", "operation": "set_variables",
             "parameters": {"variables": {"customer": "{{ trigger.customer }}"}}},
        ]  # fmt: skip
        self.workflow = workflow_create(organization=self.organization, by=user, name="api benchmark", nodes=nodes)
        version = workflow_activate(workflow=self.workflow, by=user)
        now = timezone.now()
        execution = WorkflowExecution.objects.create(
            organization=self.organization, workflow=self.workflow, workflow_version=version, status="completed",
            progress=100, trigger_data={"customer": "ACME", "amount": 1200}, started_at=now, completed_at=now,
        )  # fmt: skip
        owner = Membership.objects.get(organization=self.organization, user=user)
        _key, raw_key = api_key_create(organization=self.organization, by=owner, name="benchmark", role=Role.VIEWER)
        token = AccessToken.for_user(user)
        token.set_exp(lifetime=timedelta(hours=2))  # a long run must not outlive the token
        self.user = user
        return execution, {
            "jwt": {"Authorization": f"Bearer {token}"},
            "api_key": {"Authorization": f"Api-Key {raw_key}"},
        }

    def _queries(self, path: str, headers: dict) -> int:
        from django.db import connections
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        client = Client(headers=headers)
        client.get(path)  # the first request pays for one-off work (content types, caches)
        with CaptureQueriesContext(connections["default"]) as queries:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code} in-process: {response.content[:300]!r}")
        return len(queries)

    def _start_server(self) -> int:
        port = free_port()
        env = {"DEBUG": "false", "DOCG_EMBEDDED_WORKER": "false", "WEB_CONCURRENCY": str(self.web_processes)}
        self.log = tempfile.NamedTemporaryFile(prefix="docg-benchmark-api-", suffix=".log", delete=False)  # noqa: SIM115
        line, self._server = procfile_process("web", port=port, env=env, output=self.log)
        self.write(f"  $ WEB_CONCURRENCY={self.web_processes} {line}")
        self.write(f"  server log: {self.log.name}")
        self._wait_until_up(port)
        return port

    def _wait_until_up(self, port: int) -> None:
        wait_until_up(port, [self._server], self.log.name)

    def _stop_server(self) -> None:
        if self._server is not None:
            stop_processes([self._server])

    # --- measuring ----------------------------------------------------------------------------
    async def _measure(self, base: str, path: str, credentials: dict[str, dict]) -> None:
        import httpx

        # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them under a request.
        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency, keepalive_expiry=2
        )
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
            for name, headers in credentials.items():
                # Warm-up: imports, the pool's connections, every keep-alive connection opened.
                await self._closed_loop(client, path, headers, max(200, self.concurrency * 4))
                self.write(f"\n{name}: GET {path}  ({self.results[name]['queries']} queries per request)")
                await self._phase(name, "closed", client, path, headers)
                if self.rate:
                    await self._phase(name, "open", client, path, headers)

    async def _phase(self, name: str, kind: str, client, path: str, headers: dict) -> None:
        from asgiref.sync import sync_to_async

        meter = CpuMeter({"web": [self._server.pid]}, postgres=connection.vendor == "postgresql")
        await sync_to_async(meter.start)()
        profiler = self._start_profiler()
        load_before = os.getloadavg()[0]
        own_before = cpu_seconds(os.getpid())
        began = time.perf_counter()
        if kind == "closed":
            latencies = await self._closed_loop(client, path, headers, self.requests)
        else:
            latencies = await self._open_loop(client, path, headers, self.requests)
        wall = time.perf_counter() - began
        own = cpu_seconds(os.getpid()) - own_before
        self._stop_profiler(profiler)
        server, database = await sync_to_async(meter.stop)()
        n = len(latencies)
        figures = {
            "requests": n, "per_s": n / wall, "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "web_cpu_ms": server["web"] * 1000 / n, "postgres_cpu_ms": database * 1000 / n,
            "client_cpu_ms": own * 1000 / n, "load": (load_before, os.getloadavg()[0]),
        }  # fmt: skip
        self.results[name][kind] = figures
        label = (
            f"closed loop, concurrency {self.concurrency}"
            if kind == "closed"
            else f"open loop, {self.concurrency} clients at {self.rate:g} req/s"
        )
        self.write(f"  {label}: {n} GETs")
        self.write(
            f"    {figures['per_s']:7.1f} req/s   p50 {figures['p50_ms']:6.1f} ms   p99 {figures['p99_ms']:6.1f} ms"
        )
        self.write(
            f"    CPU per request: {figures['web_cpu_ms']:.2f} ms web, {figures['postgres_cpu_ms']:.2f} ms PostgreSQL"
            f" ({figures['client_cpu_ms']:.2f} ms load generator);"
            f" load average {figures['load'][0]:.2f} → {figures['load'][1]:.2f}"
        )

    async def _get(self, client, path: str, headers: dict) -> float:
        started = time.perf_counter()
        response = await client.get(path, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
        return elapsed

    async def _closed_loop(self, client, path: str, headers: dict, requests: int) -> list[float]:
        remaining = [requests]
        latencies: list[float] = []

        async def sender() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                latencies.append(await self._get(client, path, headers))

        await asyncio.gather(*(sender() for _ in range(self.concurrency)))
        return latencies

    async def _open_loop(self, client, path: str, headers: dict, requests: int) -> list[float]:
        """`requests` GETs sent on a fixed schedule (R per second across C clients); latency from the send."""
        interval = self.concurrency / self.rate  # each client's period
        per_client = max(1, requests // self.concurrency)
        latencies: list[float] = []
        start = time.perf_counter()

        async def client_loop(offset: float) -> None:
            for i in range(per_client):
                due = start + offset + i * interval
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                latencies.append(await self._get(client, path, headers))

        await asyncio.gather(*(client_loop(c * interval / self.concurrency) for c in range(self.concurrency)))
        return latencies

    # --- profiling ----------------------------------------------------------------------------
    def _start_profiler(self):
        if not self.profile:
            return None
        import sys
        from pathlib import Path

        py_spy = Path(sys.executable).parent / "py-spy"
        self.write(f"  py-spy → {self.profile}")
        return subprocess.Popen(  # noqa: S603 (the virtualenv's py-spy on the server this benchmark started)
            [str(py_spy), "record", "-r", "100", "-f", "raw", "--gil", "--subprocesses", "-o", self.profile,
             "-p", str(self._server.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def _stop_profiler(self, profiler) -> None:
        if profiler is None:
            return
        profiler.send_signal(signal.SIGINT)
        try:
            profiler.wait(timeout=30)
        except subprocess.TimeoutExpired:
            profiler.kill()
        self.profile = ""  # the first measured phase only

    # --- clean-up -----------------------------------------------------------------------------
    def _cleanup(self, execution) -> None:
        from docg.orgs.models import ApiKey
        from docg.workflows.services import workflow_delete

        execution.delete()
        ApiKey.objects.filter(organization=self.organization).update(revoked_at=timezone.now())
        workflow_delete(workflow=self.workflow, by=None)
        self.write(f"\nDeleted the benchmark's run and workflow, revoked its key; {self.organization.name} stays.")
