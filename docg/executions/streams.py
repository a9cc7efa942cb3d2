"""The live event stream: one interface, two backends.

Redis Streams in production (`docg:exec:{id}` per execution, trimmed to
REDIS_STREAM_MAXLEN and expiring REDIS_STREAM_TTL after the last write), and an
in-process store with the same semantics for the embedded mode.

Event ids given to clients are `<epoch>:<entry id>`. The epoch is a random token
kept in Redis itself: if Redis loses its data, a new epoch is drawn, and a
client holding an id from the old epoch is told to reset instead of silently
missing events.
"""

import json
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings

EPOCH_KEY = "docg:stream:epoch"
_ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


def execution_key(execution_id: Any) -> str:
    return f"docg:exec:{execution_id}"


def organization_key(organization_id: Any) -> str:
    return f"docg:org:{organization_id}"


def id_tuple(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    try:
        return int(ms or 0), int(seq or 0)
    except ValueError:
        return (0, 0)


def public_id(epoch: str, entry_id: str) -> str:
    return f"{epoch}:{entry_id}"


def parse_public_id(value: str) -> tuple[str, str] | None:
    """(epoch, entry id) from a client's Last-Event-ID, or None when it is not one of ours."""
    epoch, sep, entry_id = (value or "").strip().partition(":")
    if not sep or not epoch or not _ENTRY_ID.match(entry_id):
        return None
    return epoch, entry_id


def stream_position(key: str) -> str:
    """The client id of the stream's last entry now (`""` if the stream cannot be read).

    A page that reads it before reading the database, then opens the stream with it as
    Last-Event-ID, misses no event written in between (events are written after commit).
    """
    try:
        streams = get_streams()
        return public_id(streams.epoch(), streams.bounds(key).last_id or "0-0")
    except Exception:  # A stream outage must not fail the page: it then follows from "now".
        return ""


@dataclass(frozen=True)
class Bounds:
    exists: bool
    first_id: str | None
    last_id: str | None
    max_deleted_id: str


class MemoryStreams:
    """Bounded, thread-safe, per-process streams (at most `max_keys` streams of `maxlen` entries)."""

    mode = "memory"

    def __init__(self, maxlen: int, max_keys: int = 2000):
        self.maxlen = maxlen
        self.max_keys = max_keys
        self._epoch = secrets.token_hex(4)
        self._streams: OrderedDict[str, deque] = OrderedDict()
        self._max_deleted: dict[str, str] = {}
        self._last_id = (0, 0)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[str, str, dict], None]] = []

    def epoch(self) -> str:
        return self._epoch

    def _next_id(self) -> str:
        ms = int(time.time() * 1000)
        last_ms, seq = self._last_id
        self._last_id = (ms, 0) if ms > last_ms else (last_ms, seq + 1)
        return f"{self._last_id[0]}-{self._last_id[1]}"

    def append_many(self, entries: list[tuple[str, dict]]) -> list[str]:
        written = []
        with self._lock:
            for key, payload in entries:
                stream = self._streams.pop(key, None) or deque(maxlen=self.maxlen)
                self._streams[key] = stream  # most recently written last
                if len(stream) == self.maxlen:
                    self._max_deleted[key] = stream[0][0]
                entry_id = self._next_id()
                payload = json.loads(json.dumps(payload, default=str))
                stream.append((entry_id, payload))
                written.append((key, entry_id, payload))
            while len(self._streams) > self.max_keys:
                dropped, _ = self._streams.popitem(last=False)
                self._max_deleted.pop(dropped, None)
            listeners = list(self._listeners)
        for listener in listeners:
            for key, entry_id, payload in written:
                listener(key, entry_id, payload)
        return [entry_id for _, entry_id, _ in written]

    def read(self, key: str, after: str = "0-0", count: int = 1000) -> list[tuple[str, dict]]:
        after_key = id_tuple(after)
        with self._lock:
            entries = list(self._streams.get(key, ()))
        return [(i, p) for i, p in entries if id_tuple(i) > after_key][:count]

    def bounds(self, key: str) -> Bounds:
        with self._lock:
            stream = self._streams.get(key)
            if not stream:
                return Bounds(False, None, None, "0-0")
            return Bounds(True, stream[0][0], stream[-1][0], self._max_deleted.get(key, "0-0"))

    def delete(self, key: str) -> None:
        with self._lock:
            self._streams.pop(key, None)
            self._max_deleted.pop(key, None)

    def keys(self, pattern_prefix: str) -> list[str]:
        with self._lock:
            return [k for k in self._streams if k.startswith(pattern_prefix)]

    def add_listener(self, listener: Callable[[str, str, dict], None]) -> None:
        with self._lock:
            self._listeners.append(listener)


class RedisStreams:
    mode = "redis"

    def __init__(self, url: str, maxlen: int, ttl: int, connections: int = 4):
        import redis

        self.url = url
        # Bounded: a burst of threads (replays, API requests) waits for a connection instead of opening more.
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=connections, timeout=10, decode_responses=True, health_check_interval=30
        )
        self.client = redis.Redis(connection_pool=pool)
        self.maxlen = maxlen
        self.ttl = ttl

    def epoch(self) -> str:
        # SET NX: the first writer after a data loss draws the new epoch; everyone then reads it.
        self.client.set(EPOCH_KEY, secrets.token_hex(4), nx=True)
        return self.client.get(EPOCH_KEY)

    def append_many(self, entries: list[tuple[str, dict]]) -> list[str]:
        # One round trip for every event of a transaction. XADD does not refresh a
        # key's TTL, so each stream written gets one EXPIRE after its events.
        pipe = self.client.pipeline(transaction=False)
        pipe.set(EPOCH_KEY, secrets.token_hex(4), nx=True)
        for key, payload in entries:
            pipe.xadd(key, {"event": json.dumps(payload, default=str)}, maxlen=self.maxlen, approximate=True)
        for key in dict.fromkeys(key for key, _ in entries):
            pipe.expire(key, self.ttl)
        results = pipe.execute()
        return results[1 : 1 + len(entries)]

    def read(self, key: str, after: str = "0-0", count: int = 1000) -> list[tuple[str, dict]]:
        entries = self.client.xrange(key, min=f"({after}" if after != "0-0" else "-", count=count)
        return [(entry_id, json.loads(fields["event"])) for entry_id, fields in entries]

    def read_many(self, requests: list[tuple[str, str]]) -> list[list[tuple[str, dict]]]:
        """`read` for several (key, after) pairs in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for key, after in requests:
            pipe.xrange(key, min=f"({after}" if after != "0-0" else "-", count=1000)
        return [[(entry_id, json.loads(fields["event"])) for entry_id, fields in entries] for entries in pipe.execute()]

    def bounds(self, key: str) -> Bounds:
        import redis

        try:
            info = self.client.xinfo_stream(key)
        except redis.ResponseError:
            return Bounds(False, None, None, "0-0")
        first = info.get("first-entry")
        last = info.get("last-entry")
        return Bounds(
            True,
            first[0] if first else None,
            last[0] if last else None,
            info.get("max-deleted-entry-id") or "0-0",
        )

    def delete(self, key: str) -> None:
        self.client.delete(key)

    def keys(self, pattern_prefix: str) -> list[str]:
        return list(self.client.scan_iter(match=f"{pattern_prefix}*", count=500))


class SqliteStreams:
    """Streams in a table of the embedded mode's SQLite file, shared by every process that opens it.

    Embedded mode has no Redis, and an in-memory store is per process: a run started with
    `manage.py run_workflow` while `make run` serves wrote its events where no SSE client could see
    them. The SQLite file is the one thing both processes share, so the events go there: one row per
    entry, its id "<row id>-0" (row ids only grow, so ids order as Redis ids do). Readers in another
    process poll (docg/executions/hub.py). Plain sqlite3 connections, not the ORM: this runs on
    after-commit hooks and in the SSE server's threads, and the table is created on first use.
    """

    mode = "sqlite"
    POLL_SECONDS = 0.2

    def __init__(self, path: str, maxlen: int):
        self.path = path
        self.maxlen = maxlen
        self._ready = False
        self._epoch: str | None = None
        self._listeners: list[Callable[[str, str, dict], None]] = []

    def _connect(self):
        import sqlite3

        connection = sqlite3.connect(self.path, timeout=20, isolation_level=None)
        if not self._ready:
            connection.executescript(
                """
                CREATE TABLE IF NOT EXISTS docg_stream_entry (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, event TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS docg_stream_entry_key ON docg_stream_entry (key, id);
                CREATE TABLE IF NOT EXISTS docg_stream_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                """
            )
            self._ready = True
        return connection

    def epoch(self) -> str:
        if self._epoch is None:
            with closing(self._connect()) as db:
                db.execute("INSERT OR IGNORE INTO docg_stream_meta VALUES ('epoch', ?)", (secrets.token_hex(4),))
                self._epoch = db.execute("SELECT value FROM docg_stream_meta WHERE name = 'epoch'").fetchone()[0]
        return self._epoch

    def append_many(self, entries: list[tuple[str, dict]]) -> list[str]:
        written = []
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for key, payload in entries:
                    event = json.dumps(payload, default=str)
                    row = db.execute("INSERT INTO docg_stream_entry (key, event) VALUES (?, ?)", (key, event)).lastrowid
                    written.append((key, f"{row}-0", json.loads(event)))
                for key in {key for key, _ in entries}:
                    # MAXLEN: keep the newest entries, recording the last id trimmed as Redis does.
                    cut = db.execute(
                        "SELECT id FROM docg_stream_entry WHERE key = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
                        (key, self.maxlen),
                    ).fetchone()
                    if cut:
                        db.execute("DELETE FROM docg_stream_entry WHERE key = ? AND id <= ?", (key, cut[0]))
                        db.execute(
                            "INSERT INTO docg_stream_meta VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = ?",
                            (f"deleted:{key}", str(cut[0]), str(cut[0])),
                        )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        for listener in list(self._listeners):
            for key, entry_id, payload in written:
                listener(key, entry_id, payload)
        return [entry_id for _, entry_id, _ in written]

    def read(self, key: str, after: str = "0-0", count: int = 1000) -> list[tuple[str, dict]]:
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT id, event FROM docg_stream_entry WHERE key = ? AND id > ? ORDER BY id LIMIT ?",
                (key, id_tuple(after)[0], count),
            ).fetchall()
        return [(f"{row}-0", json.loads(event)) for row, event in rows]

    def read_new(self, keys: list[str], after: int) -> list[tuple[str, str, dict]]:
        """Entries of any of `keys` written after row `after`, oldest first (the hub's poll)."""
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        with closing(self._connect()) as db:
            rows = db.execute(
                f"SELECT id, key, event FROM docg_stream_entry WHERE id > ? AND key IN ({marks}) "  # noqa: S608
                "ORDER BY id LIMIT 1000",
                (after, *keys),
            ).fetchall()
        return [(key, f"{row}-0", json.loads(event)) for row, key, event in rows]

    def last_row(self) -> int:
        with closing(self._connect()) as db:
            return db.execute("SELECT COALESCE(MAX(id), 0) FROM docg_stream_entry").fetchone()[0]

    def bounds(self, key: str) -> Bounds:
        with closing(self._connect()) as db:
            first, last = db.execute("SELECT MIN(id), MAX(id) FROM docg_stream_entry WHERE key = ?", (key,)).fetchone()
            deleted = db.execute("SELECT value FROM docg_stream_meta WHERE name = ?", (f"deleted:{key}",)).fetchone()
        if first is None:
            return Bounds(False, None, None, "0-0")
        return Bounds(True, f"{first}-0", f"{last}-0", f"{deleted[0]}-0" if deleted else "0-0")

    def delete(self, key: str) -> None:
        with closing(self._connect()) as db:
            db.execute("DELETE FROM docg_stream_entry WHERE key = ?", (key,))
            db.execute("DELETE FROM docg_stream_meta WHERE name = ?", (f"deleted:{key}",))

    def keys(self, pattern_prefix: str) -> list[str]:
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT DISTINCT key FROM docg_stream_entry WHERE substr(key, 1, ?) = ?",
                (len(pattern_prefix), pattern_prefix),
            ).fetchall()
        return [row[0] for row in rows]

    def add_listener(self, listener: Callable[[str, str, dict], None]) -> None:
        self._listeners.append(listener)


def embedded_sqlite_path(database: dict | None = None) -> str:
    """The SQLite file of the embedded mode ("" when the database is not a SQLite file)."""
    database = database if database is not None else settings.DATABASES["default"]
    name = str(database.get("NAME") or "")
    if database.get("ENGINE") != "django.db.backends.sqlite3" or not name or "memory" in name:
        return ""
    return name


@lru_cache(maxsize=4)
def _backend(
    url: str, maxlen: int, ttl: int, sqlite_path: str = "", connections: int = 4
) -> MemoryStreams | RedisStreams | SqliteStreams:
    if url:
        return RedisStreams(url, maxlen, ttl, connections)
    if sqlite_path:
        return SqliteStreams(sqlite_path, maxlen)
    return MemoryStreams(maxlen)


def get_streams() -> MemoryStreams | RedisStreams | SqliteStreams:
    return _backend(
        settings.REDIS_URL, settings.REDIS_STREAM_MAXLEN, settings.REDIS_STREAM_TTL, embedded_sqlite_path(),
        settings.REDIS_STREAM_CONNECTIONS,
    )  # fmt: skip
