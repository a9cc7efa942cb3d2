"""Worker heartbeats: how the engine tells a dead worker from a slow one in seconds, not a lease.

Each worker process writes a WorkerHeartbeat row when it boots and refreshes it
every WORKER_HEARTBEAT_SECONDS from its own thread; a step it claims names it
(ExecutionStep.worker_id). A row silent for WORKER_HEARTBEAT_TIMEOUT_SECONDS is a
dead process (SIGKILL, out of memory, a lost machine): the reaper takes over its
running steps at once (docg.executions.reaper.reap_orphans), where the lease alone
would make them wait STEP_LEASE_SECONDS. The lease stays as the last resort
(a step claimed outside a worker names none).

The process's other periodic work (draining the outbox, reaping orphans) runs
at the same pace on a thread of its own, `on_beat`, so it never delays a beat.
"""

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


def workers_dead() -> list[WorkerHeartbeat]:
    """Workers silent for longer than WORKER_HEARTBEAT_TIMEOUT_SECONDS."""
    cutoff = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS)
    return list(WorkerHeartbeat.objects.filter(beat_at__lt=cutoff))


class HeartbeatThread(threading.Thread):
    """Beats for this process every WORKER_HEARTBEAT_SECONDS until stopped; runs `on_beat` as often on a
    second thread, so a slow sweep or drain never delays a beat (a late beat looks like a dead worker)."""

    def __init__(self, on_beat: Callable[[], None] | None = None) -> None:
        super().__init__(name="docg-heartbeat", daemon=True)
        self.id = uuid.uuid4()
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
        self._every_beat(lambda: heartbeat_beat(self.id, started_at=self.started_at), "The worker heartbeat")
        try:
            # A clean stop: nobody needs to take this process's steps over (they finished before shutdown).
            WorkerHeartbeat.objects.filter(pk=self.id).delete()
        except Exception:
            logger.warning("Could not remove the worker heartbeat row", exc_info=True)
        finally:
            connection.close()

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
