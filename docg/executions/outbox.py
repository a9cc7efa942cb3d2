"""The transactional outbox under docg.executions.dispatch: a message survives a failed send.

A message is written as a row in the transaction that made the rows it names,
and sent once that transaction commits. A sent message's row is deleted in a
batch a moment later (one DELETE per flush, not one per message). If the send
fails (broker down or restarting) the row stays, and a worker's heartbeat
thread sends it again within seconds (dispatch.outbox_drain) instead of the
step waiting a whole lease for the reaper. If a process dies between commit and
send, or between send and flush, the row is sent again: a duplicate message
finds its step claimed or done and does nothing.

Only messages sent inside a transaction through the broker get a row: inline()
and captured() deliver in this process, and a message sent outside a
transaction is sent at once (nothing to commit with).
"""

import logging
import os
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from docg.executions.models import OutboxMessage

logger = logging.getLogger(__name__)

# A batch of sent rows is deleted this long after the first of them was sent.
FLUSH_SECONDS = 0.5


def outbox_write(*, queue: str, object_id: str, delay_ms: int) -> int:
    """Write a message's row in the caller's transaction; returns its id."""
    due = timezone.now() + timedelta(milliseconds=delay_ms)
    return OutboxMessage.objects.create(queue=queue, object_id=object_id, due_at=due).pk


def outbox_sent(row_id: int) -> None:
    """The broker took this row's message: delete the row with the next batch."""
    _flusher().add(row_id)


def outbox_due(*, limit: int = 500) -> list[OutboxMessage]:
    """Lock (caller's transaction) rows whose send failed: due more than OUTBOX_RESEND_AFTER_SECONDS ago."""
    cutoff = timezone.now() - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS)
    return list(
        OutboxMessage.objects.select_for_update(skip_locked=True).filter(due_at__lt=cutoff).order_by("due_at")[:limit]
    )


def outbox_delete(row_ids: list[int]) -> None:
    if row_ids:
        OutboxMessage.objects.filter(pk__in=row_ids).delete()


def outbox_flush() -> None:
    """Delete the rows of messages sent so far in this process (tests and shutdown; normally a thread does it)."""
    _flusher().flush()


class _Flusher:
    """Collects the ids of sent rows and deletes them in one statement every FLUSH_SECONDS, on its own thread."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.ids: list[int] = []
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None

    def add(self, row_id: int) -> None:
        with self.lock:
            self.ids.append(row_id)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="docg-outbox", daemon=True)
                self.thread.start()
        self.wake.set()

    def flush(self) -> None:
        with self.lock:
            ids, self.ids = self.ids, []
        if not ids:
            return
        try:
            with transaction.atomic():
                outbox_delete(ids)
        except Exception:
            # Kept for the next flush; meanwhile a drain may send them again, which is harmless.
            with self.lock:
                self.ids[:0] = ids
            raise

    def _run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            time.sleep(FLUSH_SECONDS)  # let a batch gather
            try:
                self.flush()
            except Exception:
                logger.warning("Could not delete sent outbox rows; retrying", exc_info=True)
                connection.close()
                self.wake.set()
                time.sleep(1)
            else:
                close_old_connections()  # kept only within CONN_MAX_AGE, like a request's


_flushers: dict[int, _Flusher] = {}
_flushers_lock = threading.Lock()


def _flusher() -> _Flusher:
    # One per process: a forked worker process must not share its parent's thread or list.
    pid = os.getpid()
    with _flushers_lock:
        flusher = _flushers.get(pid)
        if flusher is None:
            flusher = _flushers[pid] = _Flusher()
        return flusher
