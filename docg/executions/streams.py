"""The live event stream: one interface, two backends.

Redis Streams in production (`docg:exec:{id}` per execution, trimmed to
REDIS_STREAM_MAXLEN and expiring REDIS_STREAM_TTL after the last write), and an
in-process store with the same semantics for the embedded mode. The realtime
work (SSE, websockets, replay) reads through this interface.
"""

import json
import threading
import time
from collections import OrderedDict, deque
from functools import lru_cache
from typing import Any

from django.conf import settings


def execution_key(execution_id: Any) -> str:
    return f"docg:exec:{execution_id}"


def organization_key(organization_id: Any) -> str:
    return f"docg:org:{organization_id}"


class MemoryStreams:
    """Bounded, thread-safe, per-process streams (at most `max_keys` streams of `maxlen` entries)."""

    mode = "memory"

    def __init__(self, maxlen: int, max_keys: int = 2000):
        self.maxlen = maxlen
        self.max_keys = max_keys
        self._streams: OrderedDict[str, deque] = OrderedDict()
        self._last_id = (0, 0)
        self._changed = threading.Condition()

    def _next_id(self) -> str:
        ms = int(time.time() * 1000)
        last_ms, seq = self._last_id
        self._last_id = (ms, 0) if ms > last_ms else (last_ms, seq + 1)
        return f"{self._last_id[0]}-{self._last_id[1]}"

    def append_many(self, entries: list[tuple[str, dict]]) -> list[str]:
        ids = []
        with self._changed:
            for key, payload in entries:
                stream = self._streams.pop(key, None) or deque(maxlen=self.maxlen)
                self._streams[key] = stream  # most recently written last
                entry_id = self._next_id()
                stream.append((entry_id, json.loads(json.dumps(payload, default=str))))
                ids.append(entry_id)
            while len(self._streams) > self.max_keys:
                self._streams.popitem(last=False)
            self._changed.notify_all()
        return ids

    def read(self, key: str, after: str = "0-0", count: int = 1000) -> list[tuple[str, dict]]:
        after_key = _id_tuple(after)
        with self._changed:
            entries = list(self._streams.get(key, ()))
        return [(i, p) for i, p in entries if _id_tuple(i) > after_key][:count]

    def delete(self, key: str) -> None:
        with self._changed:
            self._streams.pop(key, None)


class RedisStreams:
    mode = "redis"

    def __init__(self, url: str, maxlen: int, ttl: int):
        import redis

        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.maxlen = maxlen
        self.ttl = ttl

    def append_many(self, entries: list[tuple[str, dict]]) -> list[str]:
        # One round trip for every event of a transaction. XADD does not refresh a
        # key's TTL, so each write is followed by EXPIRE.
        pipe = self.client.pipeline(transaction=False)
        for key, payload in entries:
            pipe.xadd(key, {"event": json.dumps(payload, default=str)}, maxlen=self.maxlen, approximate=True)
            pipe.expire(key, self.ttl)
        results = pipe.execute()
        return results[0::2]

    def read(self, key: str, after: str = "0-0", count: int = 1000) -> list[tuple[str, dict]]:
        entries = self.client.xrange(key, min=f"({after}" if after != "0-0" else "-", count=count)
        return [(entry_id, json.loads(fields["event"])) for entry_id, fields in entries]

    def delete(self, key: str) -> None:
        self.client.delete(key)


def _id_tuple(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms or 0), int(seq or 0)


@lru_cache(maxsize=4)
def _backend(url: str, maxlen: int, ttl: int) -> MemoryStreams | RedisStreams:
    if url:
        return RedisStreams(url, maxlen, ttl)
    return MemoryStreams(maxlen)


def get_streams() -> MemoryStreams | RedisStreams:
    return _backend(settings.REDIS_URL, settings.REDIS_STREAM_MAXLEN, settings.REDIS_STREAM_TTL)
