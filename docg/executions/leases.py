"""Leases of steps whose action runs outside a transaction (provider I/O).

A claimed step holds a lease of STEP_LEASE_SECONDS and a random token. While
its action runs, a keeper thread in the worker renews the lease every third of
that time; if the worker dies (SIGKILL), renewals stop and the reaper resends
the step soon after. The token tells a worker whether the step is still its
own when it records the result: a presumed-dead worker's late result is
discarded.
"""

import logging
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from docg.executions.choices import StepStatus
from docg.executions.models import ExecutionStep

logger = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self) -> None:
        self._held: dict[str, uuid.UUID] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def hold(self, step_id, token: uuid.UUID) -> None:
        with self._lock:
            self._held[str(step_id)] = token
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="docg-leases", daemon=True)
                self._thread.start()

    def release(self, step_id) -> None:
        with self._lock:
            self._held.pop(str(step_id), None)

    def held(self) -> set[str]:
        """The ids of the steps this process's threads are running now."""
        with self._lock:
            return set(self._held)

    def _run(self) -> None:
        while True:
            self._wake.wait(max(settings.STEP_LEASE_SECONDS / 3, 0.2))
            with self._lock:
                held = dict(self._held)
            if not held:
                continue
            try:
                until = timezone.now() + timedelta(seconds=settings.STEP_LEASE_SECONDS)
                for step_id, token in held.items():
                    ExecutionStep.objects.filter(pk=step_id, lease_token=token, status=StepStatus.RUNNING).update(
                        lease_expires_at=until
                    )
            except Exception:  # A database hiccup must not kill the keeper; the next beat retries.
                logger.exception("Could not renew step leases")
            finally:
                close_old_connections()


keeper = LeaseKeeper()


def lease_until() -> timezone.datetime:
    """When a lease taken now expires."""
    return timezone.now() + timedelta(seconds=settings.STEP_LEASE_SECONDS)
