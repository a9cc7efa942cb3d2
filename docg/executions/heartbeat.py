"""Worker heartbeats: how the engine tells a dead worker from a slow one in seconds, not a lease.

Each worker process writes a WorkerHeartbeat row when it boots and refreshes it
every WORKER_HEARTBEAT_SECONDS from its own thread; a step it claims names it
(ExecutionStep.worker_id). A row silent for WORKER_HEARTBEAT_TIMEOUT_SECONDS is a
dead process (SIGKILL, out of memory, a lost machine): the reaper takes over its
running steps at once (docg.executions.reaper.reap_orphans), where the lease alone
would make them wait STEP_LEASE_SECONDS. The lease stays as the last resort
(a step claimed outside a worker names none).

Silence alone is not death: an overloaded machine, a long GC pause or a process
stopped by SIGSTOP beats late and comes back. So each worker process also holds
a PostgreSQL session advisory lock (its liveness lock) on a dedicated connection.
The lock lives exactly as long as that session: a dead process's socket closes
and PostgreSQL releases the lock at once, while a slow or paused one keeps it. A
worker is presumed dead only when its beat is late AND its lock is free
(`workers_dead`). A database blip that cuts the lock's connection leaves the
beat fresh, and the next beat takes the lock again. The lock's connection must
go straight to PostgreSQL (not through a transaction-mode PgBouncer, which does
not keep sessions); on SQLite there is no lock and the beat alone decides.

The process's other periodic work (draining the outbox, reaping orphans) runs
at the same pace on a thread of its own, `on_beat`, so it never delays a beat.
"""

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from docg.executions.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

_current: uuid.UUID | None = None


def worker_id() -> uuid.UUID | None:
    """This process's heartbeat id while its heartbeat runs, else None (web process, scripts, tests)."""
    return _current


def heartbeat_beat(beat_id: uuid.UUID, *, started_at=None) -> None:
    """Write this worker's row (again, if a sweep presumed it dead and deleted it)."""
    now = timezone.now()
    if WorkerHeartbeat.objects.filter(pk=beat_id).update(beat_at=now):
        return
    WorkerHeartbeat.objects.update_or_create(
        pk=beat_id,
        defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(), "beat_at": now},
        create_defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "beat_at": now,
            "started_at": started_at or now,
        },
    )


# The liveness locks' first key (classid in pg_locks): "docg", so they never meet another application's.
LOCK_NAMESPACE = 0x646F6367


def liveness_key(beat_id: uuid.UUID) -> int:
    """A worker's liveness lock's second key (objid in pg_locks), from its heartbeat id."""
    return beat_id.int & 0x7FFFFFFF


def workers_alive(beat_ids) -> set[uuid.UUID]:
    """Those of these workers whose liveness lock is held: their process is alive, however late it beats."""
    if connection.vendor != "postgresql":
        return set()
    by_key = {liveness_key(beat_id): beat_id for beat_id in beat_ids}
    if not by_key:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND objid = ANY(%s)",
            [LOCK_NAMESPACE, list(by_key)],
        )
        return {by_key[int(objid)] for (objid,) in cursor.fetchall()}


def workers_dead(queryset=None) -> list[WorkerHeartbeat]:
    """Workers (of `queryset`, default all) silent for longer than WORKER_HEARTBEAT_TIMEOUT_SECONDS whose
    liveness lock is free: dead."""
    cutoff = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS)
    silent = list((queryset if queryset is not None else WorkerHeartbeat.objects).filter(beat_at__lt=cutoff))
    alive = workers_alive([worker.pk for worker in silent])
    if alive:
        logger.info("Worker(s) %s beat late but hold their liveness lock: alive", ", ".join(map(str, alive)))
    return [worker for worker in silent if worker.pk not in alive]


class LivenessLock:
    """This process's session advisory lock, on a connection of its own (never Django's, never pooled)."""

    def __init__(self, beat_id: uuid.UUID) -> None:
        self.key = liveness_key(beat_id)
        self.connection = None

    def hold(self) -> bool:
        """Check the lock's connection; take the lock again on a new one if it was lost. True if held."""
        if connection.vendor != "postgresql":
            return False
        if self.connection is not None:
            try:
                self.connection.execute("SELECT 1")
                return True
            except Exception:  # terminated, restarted: the session and its lock are gone
                self.close()
        import psycopg

        params = {"connect_timeout": 5, **connection.get_connection_params()}  # an unreachable host must not hang
        conn = psycopg.connect(**params, autocommit=True)
        (taken,) = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, self.key]).fetchone()
        if not taken:  # the session that held it has not ended yet; the next beat tries again
            conn.close()
            logger.warning("The worker's liveness lock is still held by an old session; will retry")
            return False
        self.connection = conn
        return True

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None


class HeartbeatThread(threading.Thread):
    """Beats for this process every WORKER_HEARTBEAT_SECONDS until stopped; runs `on_beat` as often on a
    second thread, so a slow sweep or drain never delays a beat (a late beat looks like a dead worker)."""

    def __init__(self, on_beat: Callable[[], None] | None = None) -> None:
        super().__init__(name="docg-heartbeat", daemon=True)
        self.id = uuid.uuid4()
        self.lock = LivenessLock(self.id)
        self.started_at = timezone.now()
        self.on_beat = on_beat
        self.stopping = threading.Event()
        self.upkeep = threading.Thread(target=self._upkeep, name="docg-upkeep", daemon=True)

    def start(self) -> None:
        global _current
        _current = self.id  # before any step is claimed, so every claim names this worker
        super().start()
        if self.on_beat is not None:
            self.upkeep.start()

    def run(self) -> None:
        self._every_beat(self._beat, "The worker heartbeat")
        try:
            # A clean stop: nobody needs to take this process's steps over (they finished before shutdown).
            WorkerHeartbeat.objects.filter(pk=self.id).delete()
        except Exception:
            logger.warning("Could not remove the worker heartbeat row", exc_info=True)
        finally:
            self.lock.close()
            connection.close()

    def _beat(self) -> None:
        try:
            self.lock.hold()  # first: a row that beats without its lock would look dead once it is late
        finally:
            heartbeat_beat(self.id, started_at=self.started_at)

    def _upkeep(self) -> None:
        self._every_beat(self.on_beat, "The worker's periodic sweep")
        connection.close()

    def _every_beat(self, work: Callable[[], None], what: str) -> None:
        while True:
            try:
                work()
            except Exception:  # A database or broker hiccup must not stop the loop; the next beat retries.
                logger.warning("%s failed; it will run again", what, exc_info=True)
                connection.close()
            finally:
                close_old_connections()
            if self.stopping.wait(settings.WORKER_HEARTBEAT_SECONDS):
                return

    def stop(self) -> None:
        global _current
        if _current == self.id:
            _current = None
        self.stopping.set()
