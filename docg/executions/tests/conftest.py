"""Engine test helpers: workflows built through the services, and a test-only connector app.

The `testkit` app's actions let a test observe and steer a run from outside:
`count` records every real execution of its side effect, `block` waits on an
Event the test sets, `barrier` only finishes when two of them run at once.
"""

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from docg.common.errors import DocgError
from docg.connectors import registry
from docg.connectors.registry import App, Operation
from docg.connectors.runtime import ActionContext, ActionResult
from docg.executions.tests.builders import TRIGGER, action, active_workflow  # noqa: F401 (used by tests)


@dataclass
class Kit:
    counts: Counter = field(default_factory=Counter)
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    barrier: threading.Barrier = field(default_factory=lambda: threading.Barrier(2, timeout=10))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, ctx: ActionContext, params: dict) -> ActionResult:
        with self.lock:
            self.counts[params["name"]] += 1
            seen = self.counts[params["name"]]
        if params.get("fail"):
            raise DocgError("testkit.failed", "Failed on purpose.")
        return ActionResult(output={"name": params["name"], "count": seen, "key": ctx.idempotency_key})

    def block(self, ctx: ActionContext, params: dict) -> ActionResult:
        self.started.set()
        if not self.release.wait(10):
            raise DocgError("testkit.never_released", "The test never released the step.")
        with self.lock:
            self.counts["block"] += 1
        return ActionResult(output={"released": True})

    def deliver(self, ctx: ActionContext, params: dict) -> ActionResult:
        # Like an email: the run is `sending` while it runs and `sent` after.
        with self.lock:
            self.counts["deliver"] += 1
        return ActionResult(output={"delivered": True}, status="sent")

    def meet(self, ctx: ActionContext, params: dict) -> ActionResult:
        # Both parties must run at the same time: proof that two worker threads were free.
        self.barrier.wait()
        return ActionResult(output={"met": True})


@pytest.fixture
def testkit():
    kit = Kit()
    app = App(slug="testkit", name="Test kit")
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "fail": {}}}
    app.action(Operation(name="count", label="Count", handler=kit.count, parameters=schema, max_attempts=1))
    app.action(Operation(name="block", label="Block", handler=kit.block, max_attempts=1))
    app.action(Operation(name="meet", label="Meet", handler=kit.meet, max_attempts=1))
    app.action(
        Operation(name="deliver", label="Deliver", handler=kit.deliver, max_attempts=1, status_running="sending")
    )
    registry.register(app)
    yield kit
    kit.release.set()
    kit.barrier.abort()
    registry._APPS.pop("testkit", None)


class _Recorder(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.received.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        payload = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def loopback_server():
    """A real HTTP server on 127.0.0.1 that records every request it receives."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.daemon_threads, server.block_on_close = True, False
    server.received = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
