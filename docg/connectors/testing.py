"""What the loopback fakes of provider APIs share (docg/connectors/*/tests/fake.py and friends).

A fake is a `LoopbackHandler` subclass that records each request and answers
like the documented API, served by `loopback_server` on 127.0.0.1 in a daemon
thread for the length of a test.
"""

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackHandler(BaseHTTPRequestHandler):
    """A quiet request handler with helpers to read a request and answer it."""

    def log_message(self, *args: Any) -> None:
        pass  # the test output is for the test, not for each request

    def read_body(self) -> bytes:
        """The request's body (empty without a Content-Length)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def lower_headers(self) -> dict[str, str]:
        """The request's headers, names in lower case."""
        return {k.lower(): v for k, v in self.headers.items()}

    def reply(
        self, status: int, body: Any, headers: dict | None = None, *, content_type: str = "application/json"
    ) -> None:
        """Answer with `body` (bytes as they are, anything else as JSON) and these extra headers."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        # A client that timed out on purpose (a test of timeouts) has hung up already.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)


@contextlib.contextmanager
def loopback_server(
    handler: type[BaseHTTPRequestHandler], *, poll_interval: float = 0.5, **attributes: Any
) -> Iterator[str]:
    """Serve `handler` on 127.0.0.1 (any free port) until the block ends; yields the base URL.

    `attributes` are set on the server, where a handler reads them as `self.server.<name>`;
    a shorter `poll_interval` makes the server stop sooner at the end.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    for name, value in attributes.items():
        setattr(server, name, value)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
