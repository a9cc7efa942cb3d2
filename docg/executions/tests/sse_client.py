"""A small SSE client over httpx for tests: frames as dicts, read until a condition or the stream ends."""

import json
import time
from dataclasses import dataclass, field

import httpx


@dataclass
class Frame:
    event: str = "message"
    id: str | None = None
    data: str = ""
    comment: str | None = None
    retry: int | None = None

    @property
    def json(self) -> dict:
        return json.loads(self.data)


@dataclass
class Session:
    frames: list[Frame] = field(default_factory=list)
    status_code: int = 0
    closed_by_server: bool = False

    @property
    def events(self) -> list[Frame]:
        return [f for f in self.frames if f.comment is None and f.retry is None]


def read(url: str, *, headers: dict | None = None, stop=None, timeout: float = 10.0) -> Session:
    """Read frames until `stop(session)` is true, the server closes, or `timeout` passes (then fail)."""
    session = Session()
    deadline = time.monotonic() + timeout
    client = httpx.Client(timeout=httpx.Timeout(timeout, read=timeout))
    with client, client.stream("GET", url, headers=headers or {}) as response:
        session.status_code = response.status_code
        if response.status_code != 200:
            response.read()
            session.frames.append(Frame(event="error", data=response.text))
            return session
        current = Frame()
        for line in response.iter_lines():
            if time.monotonic() > deadline:
                raise AssertionError(f"SSE read timed out; got {[f.event for f in session.frames]}")
            if line == "":
                if current.comment or current.retry is not None or current.data or current.id:
                    session.frames.append(current)
                    if stop is not None and stop(session):
                        return session
                current = Frame()
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "":
                current.comment = value
            elif name == "event":
                current.event = value
            elif name == "id":
                current.id = value
            elif name == "data":
                current.data = f"{current.data}\n{value}" if current.data else value
            elif name == "retry":
                current.retry = int(value)
        session.closed_by_server = True
    return session
