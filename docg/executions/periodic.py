"""The periodic work of issue 15, run by a thread in every worker process (PeriodicMiddleware).

Each tick: re-send bulk operations whose worker died, and enqueue the event
subscriptions' dispatch and the retention purge (each claimed once per interval
across workers, as the Google Forms poll is).
"""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections
from dramatiq.middleware import Middleware

logger = logging.getLogger(__name__)


def tick() -> None:
    from docg.executions.bulk import bulk_sweep
    from docg.executions.retention import retention_tick
    from docg.executions.subscriptions import subscriptions_tick

    for job in (bulk_sweep, subscriptions_tick, retention_tick):
        try:
            job()
        except Exception:  # Each job must outlive a database or Redis hiccup; the next tick retries.
            logger.exception("Periodic job %s failed; it will run again", job.__name__)
        finally:
            close_old_connections()


class PeriodicThread(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="docg-volume-periodic", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(settings.REAPER_INTERVAL_SECONDS):
            tick()

    def stop(self) -> None:
        self.stopping.set()


class PeriodicMiddleware(Middleware):
    """Runs PeriodicThread inside every worker process, from boot to shutdown."""

    def __init__(self) -> None:
        self.thread: PeriodicThread | None = None

    def after_worker_boot(self, broker, worker) -> None:
        self.thread = PeriodicThread()
        self.thread.start()

    def before_worker_shutdown(self, broker, worker) -> None:
        if self.thread is not None:
            self.thread.stop()
