"""The embedded mode's worker: the same Dramatiq actors on threads inside the web process.

Started once per process when DOCG_EMBEDDED_WORKER is set (`make run` sets it),
so a single web server process serves pages and runs workflows with no Redis.
"""

import atexit
import logging
import threading

import dramatiq

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_worker: dramatiq.Worker | None = None


def start_embedded_worker(threads: int = 4) -> dramatiq.Worker:
    global _worker
    with _lock:
        if _worker is None:
            _worker = dramatiq.Worker(dramatiq.get_broker(), worker_threads=threads, worker_timeout=200)
            _worker.start()
            atexit.register(_worker.stop)
            logger.info("Embedded Dramatiq worker started with %d threads", threads)
    return _worker
