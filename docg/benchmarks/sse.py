"""`manage.py benchmark sse`: many SSE clients on one server process, publish→receive latency.

Starts the Procfile's web line on a loopback port (this configuration's database and Redis), opens
C concurrent SSE connections to one execution's stream (plain asyncio sockets, so
the client side stays light), publishes E events through the same stream
interface the engine uses, and reports latency percentiles, deliveries/s, the
server's memory per connection and the Redis connections it holds.
"""

import asyncio
import os
import re
import resource
import statistics
import subprocess
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from docg.benchmarks.procfile import procfile_process
from docg.benchmarks.webhook import cpu_seconds, descendants


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


SENT_AT = re.compile(rb'"sent_at": ([0-9.]+)')


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _tree_cpu_seconds(pid: int) -> float:
    return sum(cpu_seconds(p) for p in descendants(pid))


def _tree_rss_kib(pid: int) -> int:
    total = _rss_kib(pid)
    for child in Path("/proc").glob("[0-9]*"):
        try:
            if int((child / "stat").read_text().split()[3]) == pid:
                total += _rss_kib(int(child.name))
        except (OSError, ValueError, IndexError):
            continue
    return total


class SSEBenchmark:
    def __init__(self, *, clients: int, events: int, rate: float, write):
        self.clients = clients
        self.events = events
        self.rate = rate
        self.write = write

    # --- fixtures -----------------------------------------------------------------------
    def _fixtures(self):
        from docg.executions.models import WorkflowExecution
        from docg.orgs.models import User
        from docg.orgs.services import organization_create
        from docg.orgs.tenancy import stream_token_issue
        from docg.workflows.services import workflow_activate, workflow_create

        stamp = time.strftime("%Y%m%d%H%M%S")
        user = User.objects.create_user(email=f"bench-{stamp}@docg.local", password=None)
        organization = organization_create(name=f"benchmark-sse-{stamp}", owner=user)
        nodes = [
            {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
            {"key": "noop", "kind": "action", "app": "core", "operation": "set_variables",
             "parameters": {"variables": {}}},
        ]  # fmt: skip
        workflow = workflow_create(organization=organization, by=user, name="sse benchmark", nodes=nodes)
        version = workflow_activate(workflow=workflow, by=user)
        execution = WorkflowExecution.objects.create(
            organization=organization, workflow=workflow, workflow_version=version
        )
        return execution, stream_token_issue(execution=execution, user=user)

    def _server(self, port: int) -> subprocess.Popen:
        env = {"DOCG_EMBEDDED_WORKER": "false", "STREAM_TOKEN_TTL_SECONDS": "3600", "DEBUG": "false"}
        db = connection.settings_dict
        if db["ENGINE"].endswith("postgresql"):
            env["DATABASE_URL"] = (
                f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
            )
        line, process = procfile_process("web", port=port, env=env)
        self.write(f"  web server (pid {process.pid}): {line}")
        return process

    # --- clients ------------------------------------------------------------------------
    async def _client(self, port: int, path: str, ready: asyncio.Event, counter: list, latencies: list, done):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        counter_seen = [False]
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        received = 0
        buffer = b""
        try:
            # Raw chunks and a regex, not a line parser: the client must stay cheaper than the server it measures.
            while received < self.events:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                now = time.time()
                buffer += chunk
                if not counter_seen[0] and b"retry:" in buffer:
                    counter_seen[0] = True
                    counter[0] += 1
                    if counter[0] == self.clients:
                        ready.set()
                complete, _, buffer = buffer.rpartition(b"\n\n")
                for sent in SENT_AT.findall(complete):
                    latencies.append((now - float(sent)) * 1000)
                    received += 1
        finally:
            writer.close()
            done.append(received)

    async def _run(self, port: int, path: str, key: str, publish) -> dict:
        ready = asyncio.Event()
        counter, latencies, done = [0], [], []
        tasks = [
            asyncio.create_task(self._client(port, path, ready, counter, latencies, done)) for _ in range(self.clients)
        ]
        await asyncio.wait_for(ready.wait(), timeout=120)
        await asyncio.sleep(0.5)  # let the last subscriptions reach the shared reader
        self.write(f"  {self.clients} clients connected; publishing {self.events} events…")
        cpu_before = _tree_cpu_seconds(self._pid)
        own_before = cpu_seconds(os.getpid())
        started = time.time()
        interval = 1 / self.rate if self.rate else 0
        for n in range(self.events):
            await asyncio.to_thread(publish, key, n)
            if interval:
                await asyncio.sleep(interval)
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=120)
        return {
            "latencies": latencies, "elapsed": time.time() - started, "received": sum(done),
            "server_cpu": _tree_cpu_seconds(self._pid) - cpu_before,
            "client_cpu": cpu_seconds(os.getpid()) - own_before,
        }  # fmt: skip

    def run(self) -> None:
        from docg.executions.events import build_event
        from docg.executions.streams import execution_key, get_streams

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        execution, token = self._fixtures()
        streams = get_streams()
        key = execution_key(execution.pk)

        def publish(stream_key: str, n: int) -> None:
            event = build_event(execution, "log.appended", {"n": n, "sent_at": time.time()})
            streams.append_many([(stream_key, event)])

        port = _free_port()
        server = self._server(port)
        self._pid = server.pid
        load_before = os.getloadavg()[0]
        try:
            deadline = time.time() + 30
            while True:
                try:
                    import httpx

                    if httpx.get(f"http://127.0.0.1:{port}/api/v1/sse/health", timeout=1).status_code < 600:
                        break
                except Exception:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.1)
            streams.epoch()  # this process's publishing connection, open before the count
            redis_before = self._redis_clients()
            rss_before = _tree_rss_kib(server.pid)
            path = f"/api/v1/sse/executions/{execution.pk}/stream?token={token}"
            self.write(f"Opening {self.clients} SSE clients on one web server process (port {port})…")
            # The clients on uvloop, as the server is: the figures should measure the server, not asyncio's loop.
            import uvloop

            result = uvloop.run(self._run_with_probe(port, path, key, publish, server.pid))
            redis_during = result.pop("redis_during")
            rss_during = result.pop("rss_during")
        finally:
            server.terminate()
            server.wait(timeout=20)
        latencies = result["latencies"]
        expected = self.clients * self.events
        self.write(f"load average: {load_before:.2f} → {os.getloadavg()[0]:.2f} (2 cores shared)")
        self.write(
            f"server CPU while publishing: {result['server_cpu']:.2f} s"
            f" → {result['server_cpu'] * 1e6 / max(result['received'], 1):.0f} µs per delivered event"
            f" (the clients, this process: {result['client_cpu'] * 1e6 / max(result['received'], 1):.0f} µs)"
        )
        self.write(f"mode: {streams.mode}; clients: {self.clients}; events: {self.events}; rate: {self.rate}/s")
        self.write(f"delivered: {result['received']} of {expected} ({result['received'] / expected:.1%})")
        self.write(f"deliveries/s: {result['received'] / result['elapsed']:.0f}")
        self.write(
            "publish→receive latency ms: "
            f"p50 {_percentile(latencies, 50):.1f}  p95 {_percentile(latencies, 95):.1f}  "
            f"p99 {_percentile(latencies, 99):.1f}  max {max(latencies, default=float('nan')):.1f}  "
            f"mean {statistics.fmean(latencies) if latencies else float('nan'):.1f}"
        )
        self.write(
            f"server memory: {rss_before} KiB idle, {rss_during} KiB with clients "
            f"→ {(rss_during - rss_before) / self.clients:.1f} KiB per connection"
        )
        if redis_before is not None:
            self.write(
                f"Redis connections: {redis_before} before, {redis_during} with {self.clients} clients "
                f"(the server's readers: {redis_during - redis_before})"
            )

    async def _run_with_probe(self, port, path, key, publish, pid):
        probe = {}

        async def sample():
            await asyncio.sleep(0)
            while not probe.get("stop"):
                probe["rss_during"] = max(probe.get("rss_during", 0), _tree_rss_kib(pid))
                probe["redis_during"] = max(probe.get("redis_during", 0), self._redis_clients() or 0)
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        try:
            result = await self._run(port, path, key, publish)
        finally:
            probe["stop"] = True
            await sampler
        return {**result, "rss_during": probe.get("rss_during", 0), "redis_during": probe.get("redis_during", 0)}

    @staticmethod
    def _redis_clients() -> int | None:
        if not settings.REDIS_URL:
            return None
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        try:
            # This configuration's database only: other checkouts may share the Redis server.
            db = str(client.connection_pool.connection_kwargs.get("db", 0))
            return sum(1 for c in client.client_list() if str(c.get("db")) == db) - 1
        finally:
            client.close()
