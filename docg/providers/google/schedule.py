"""The periodic hook: every worker process runs a FormsPollThread (started by FormsPollMiddleware, a
Dramatiq middleware in settings' DRAMATIQ_BROKER); the first worker to claim an interval enqueues the poll.

The claim is a cache key (Redis in production) that lives one interval, so N
workers enqueue one poll per interval, not N. A missed claim only delays the
poll; duplicates are harmless anyway (dedupe by response id).
"""

import logging
import threading

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections
from dramatiq.middleware import Middleware

logger = logging.getLogger(__name__)

CLAIM_KEY = "docg:google_forms:poll_claim"


def poll_interval() -> float:
    return float(getattr(settings, "GOOGLE_FORMS_POLL_SECONDS", 60))


def poll_tick() -> bool:
    """Enqueue one poll unless another worker did within this interval; True when this one did."""
    from docg.providers.google.actors import poll_google_forms

    interval = poll_interval()
    if not cache.add(CLAIM_KEY, "1", timeout=max(1, int(interval * 0.9))):
        return False
    poll_google_forms.send()
    return True


class FormsPollThread(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="docg-google-forms-poll", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(poll_interval()):
            try:
                poll_tick()
            except Exception:  # the schedule must outlive a Redis hiccup
                logger.exception("Scheduling the Google Forms poll failed; it will try again")
            finally:
                close_old_connections()

    def stop(self) -> None:
        self.stopping.set()


class FormsPollMiddleware(Middleware):
    """Runs the Forms poll schedule inside every worker process, from boot to shutdown."""

    def __init__(self) -> None:
        self.thread: FormsPollThread | None = None

    def after_worker_boot(self, broker, worker) -> None:
        self.thread = FormsPollThread()
        self.thread.start()

    def before_worker_shutdown(self, broker, worker) -> None:
        if self.thread is not None:
            self.thread.stop()
