"""One shared stream reader per process, fanning events out to every subscriber.

With Redis, a single XREAD BLOCK loop reads every subscribed stream on one
connection (not one blocking connection per client). In the embedded mode the
in-process store calls back on each write. Subscribers get an asyncio.Queue of
(entry id, event); a subscriber starts from the last entry present when it
subscribed, so replay (XRANGE) plus live reading leaves no gap, and the caller
drops ids it already sent, so there are no duplicates either.
"""

import asyncio
import contextlib
import logging
import secrets
from collections import defaultdict
from typing import Any

from docg.executions.streams import MemoryStreams, RedisStreams, SqliteStreams, get_streams, id_tuple

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 2000
# Delivered instead of an entry when the stream may have lost entries (Redis restarted).
RESET = "reset"
# Delivered to a silent subscriber every SSE_HEARTBEAT_SECONDS (by the hub's one ticker).
HEARTBEAT = "heartbeat"


class Subscription:
    def __init__(self, hub: "Hub", key: str):
        self.hub = hub
        self.key = key
        self.queue: asyncio.Queue[tuple[str, dict] | None] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.overflowed = False

    def deliver(self, entry_id: str, payload: dict) -> None:
        try:
            self.queue.put_nowait((entry_id, payload))
        except asyncio.QueueFull:
            # A client too slow to keep up is cut off; it reconnects and replays from its last id.
            self.overflowed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(None)

    def beat(self) -> None:
        """A heartbeat for a subscriber with nothing queued (one with entries pending needs none)."""
        if self.queue.empty():
            self.queue.put_nowait((HEARTBEAT, {}))

    async def get(self, timeout: float | None = None) -> tuple[str, dict] | None:
        """The next item (HEARTBEAT every SSE_HEARTBEAT_SECONDS of silence); TimeoutError after `timeout` if given.

        No timer per call: with a thousand open streams, arming and cancelling a timeout for
        every event delivered cost more than the delivery. The hub's one ticker sends heartbeats.
        """
        if not self.queue.empty():
            return self.queue.get_nowait()  # the common case under load: no timer, no task
        if timeout is None:
            return await self.queue.get()
        async with asyncio.timeout(timeout):
            return await self.queue.get()

    def close(self) -> None:
        self.hub.unsubscribe(self)


class Hub:
    def __init__(self, backend: MemoryStreams | RedisStreams | SqliteStreams, loop: asyncio.AbstractEventLoop):
        self.backend = backend
        self.loop = loop
        self.subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self.positions: dict[str, str] = {}
        self._task: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None
        # Replays waiting for the next batch, and calls that concurrent callers share (epoch, run state).
        self._replays: dict[tuple[str, str], asyncio.Future] = {}
        self._replaying = False
        self._shared: dict[Any, asyncio.Future] = {}
        self._wake_key = f"docg:hub:wake:{secrets.token_hex(6)}"
        self._client = None
        self._waking = False
        if isinstance(backend, MemoryStreams):
            backend.add_listener(self._on_memory_write)

    # --- subscriptions ----------------------------------------------------------------
    async def subscribe(self, key: str) -> Subscription:
        subscription = Subscription(self, key)
        try:
            if key not in self.subscribers or not self.subscribers[key]:
                bounds = await asyncio.to_thread(self.backend.bounds, key)
                start = bounds.last_id or "0-0"
                if start == "0-0" and isinstance(self.backend, SqliteStreams):
                    # Row ids are shared by every key: an empty stream's next entry comes after the last row.
                    start = f"{await asyncio.to_thread(self.backend.last_row)}-0"
                self.positions.setdefault(key, start)
            self.subscribers[key].add(subscription)
            if self._ticker is None or self._ticker.done():
                self._ticker = self.loop.create_task(self._tick())
            if isinstance(self.backend, RedisStreams):
                self._ensure_reader()
                await self._wake()
            elif isinstance(self.backend, SqliteStreams):
                self._ensure_poller()
        except BaseException:
            # The client left (or Redis failed) while subscribing: leave nothing registered.
            self.unsubscribe(subscription)
            raise
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subs = self.subscribers.get(subscription.key)
        if subs is not None:
            subs.discard(subscription)
            if not subs:
                del self.subscribers[subscription.key]
                self.positions.pop(subscription.key, None)

    @property
    def connections(self) -> int:
        return sum(len(s) for s in self.subscribers.values())

    # --- replays and shared reads: a burst of a thousand new clients costs a few round trips ---------
    async def read(self, key: str, after: str) -> list[tuple[str, dict]]:
        """The stream's entries after `after`, read once for every caller waiting at that moment.

        Call it after subscribing: a caller joins only a batch that has not been read yet, so the
        read happens after its subscription and replay plus live reading leaves no gap. Batches are
        read one at a time, each as one pipelined round trip, so replays hold one Redis connection.
        """
        future = self._replays.get((key, after))
        if future is None:
            future = self._replays[(key, after)] = self.loop.create_future()
            if not self._replaying:
                self._replaying = True
                self.loop.create_task(self._read_batches())
        return await asyncio.shield(future)  # one client leaving must not cancel the others' read

    async def _read_batches(self) -> None:
        try:
            while self._replays:
                batch, self._replays = self._replays, {}
                try:
                    results = await asyncio.to_thread(self._read_many, list(batch))
                except Exception as exc:
                    for future in batch.values():
                        if not future.done():
                            future.set_exception(exc)
                            future.exception()  # retrieved here: a caller that left must not log it
                    continue
                for future, entries in zip(batch.values(), results, strict=True):
                    if not future.done():
                        future.set_result(entries)
        finally:
            self._replaying = False

    def _read_many(self, requests: list[tuple[str, str]]) -> list[list[tuple[str, dict]]]:
        if isinstance(self.backend, RedisStreams):
            return self.backend.read_many(requests)
        return [self.backend.read(key, after) for key, after in requests]

    async def shared(self, name: Any, function, *args):
        """`function(*args)` in a thread, one call for every caller asking for `name` while it runs.

        For reads that may be a moment old: the epoch, a run's state.
        """
        future = self._shared.get(name)
        if future is None:
            future = self._shared[name] = asyncio.ensure_future(asyncio.to_thread(function, *args))
            future.add_done_callback(lambda _done: self._shared.pop(name, None))
        return await asyncio.shield(future)

    async def _tick(self) -> None:
        from django.conf import settings

        while self.subscribers:
            await asyncio.sleep(settings.SSE_HEARTBEAT_SECONDS)
            for subscriptions in list(self.subscribers.values()):
                for subscription in list(subscriptions):
                    subscription.beat()

    # --- embedded: called from whichever thread wrote ------------------------------------
    def _on_memory_write(self, key: str, entry_id: str, payload: dict) -> None:
        if key in self.subscribers:
            self.loop.call_soon_threadsafe(self._fan_out, key, entry_id, payload)

    def _fan_out(self, key: str, entry_id: str, payload: dict) -> None:
        for subscription in list(self.subscribers.get(key, ())):
            subscription.deliver(entry_id, payload)

    # --- embedded, shared SQLite file: one poll of the table for every subscribed stream ---------
    def _ensure_poller(self) -> None:
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._poll_loop())

    async def _poll_loop(self) -> None:
        while self.subscribers:
            keys = list(self.subscribers)
            after = min(id_tuple(self.positions.get(key, "0-0"))[0] for key in keys)
            try:
                rows = await asyncio.to_thread(self.backend.read_new, keys, after)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The SQLite file busy or briefly locked: the next poll picks the entries up.
                logger.exception("Stream poll failed; retrying")
                rows = []
            for key, entry_id, payload in rows:
                if key not in self.subscribers or id_tuple(entry_id) <= id_tuple(self.positions.get(key, "0-0")):
                    continue
                self.positions[key] = entry_id
                self._fan_out(key, entry_id, payload)
            if len(rows) < 1000:
                await asyncio.sleep(SqliteStreams.POLL_SECONDS)

    # --- Redis: one XREAD BLOCK loop --------------------------------------------------
    def _ensure_reader(self) -> None:
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._read_loop())

    async def _redis(self):
        if self._client is None:
            import redis.asyncio as aioredis

            self._client = aioredis.Redis.from_url(self.backend.url, decode_responses=True)
        return self._client

    async def _wake(self) -> None:
        # The reader is blocked in XREAD on the old key set: a write to its private
        # wake stream returns it at once so it picks the new key up. One wake in
        # flight serves every subscriber that arrives meanwhile (a burst of a
        # thousand connections costs one Redis connection, not a thousand).
        if self._waking:
            return
        self._waking = True
        try:
            client = await self._redis()
            with contextlib.suppress(Exception):
                await client.xadd(self._wake_key, {"w": "1"}, maxlen=10, approximate=True)
                await client.expire(self._wake_key, 60)
        finally:
            self._waking = False

    async def _read_loop(self) -> None:
        import json

        import redis

        client = await self._redis()
        wake_position = "$"
        lost = False
        while self.subscribers:
            streams = {key: self.positions.get(key, "0-0") for key in list(self.subscribers)}
            streams[self._wake_key] = wake_position
            try:
                result = await client.xread(streams, block=1000, count=500)
            except asyncio.CancelledError:
                raise
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                logger.warning("Stream reader lost Redis; retrying")
                lost = True
                await asyncio.sleep(0.5)
                continue
            except Exception:
                # Anything else must not end the one reader every open stream depends on.
                logger.exception("Stream reader failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if lost:
                # Redis came back, perhaps empty (no persistence): the streams restart,
                # and every subscriber must tell its client to reset from PostgreSQL.
                lost = False
                wake_position = "$"
                for key in list(self.subscribers):
                    self.positions[key] = "0-0"
                    self._fan_out(key, RESET, {})
            for key, entries in result or []:
                if key == self._wake_key:
                    wake_position = entries[-1][0]
                    continue
                for entry_id, fields in entries:
                    if id_tuple(entry_id) <= id_tuple(self.positions.get(key, "0-0")):
                        continue
                    self.positions[key] = entry_id
                    try:
                        event = json.loads(fields["event"])
                    except (KeyError, TypeError, ValueError):
                        logger.warning("Skipping a malformed entry %s in %s", entry_id, key)
                        continue
                    self._fan_out(key, entry_id, event)


_hubs: dict[Any, Hub] = {}


def get_hub() -> Hub:
    """The hub of the running event loop (one per process in practice)."""
    loop = asyncio.get_running_loop()
    backend = get_streams()
    hub = _hubs.get((id(loop), id(backend)))
    if hub is None or hub.loop is not loop:
        hub = Hub(backend, loop)
        _hubs[(id(loop), id(backend))] = hub
    return hub
