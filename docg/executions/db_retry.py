"""Riding out a database blip (a restart, a failover, pg_terminate_backend) on a fresh connection.

A step whose provider call succeeded must not lose its result because the
connection broke while recording it: the step would stay `running` until its
lease passed, and the takeover would call the provider again. The work is
retried on a new connection for DB_RETRY_SECONDS, with backoff. It must be a
whole transaction that can run twice: its first try rolled back, or committed
and then re-reads what it wrote (a recorded step is no longer `running`).

A commit whose answer was lost is the subtle case: the first try's work is in the
database, but what it returned (the claim to go on with, the next step to run
right here) is not. `again` is what the retries run instead of `work`, so that
they can recognise their own commit and hand back what the first try would have.
"""

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The connection errors: a broken or refused connection, never a constraint or a bad query.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


def on_fresh_connection(
    work: Callable[[], T], *, what: str, seconds: float | None = None, again: Callable[[], T] | None = None
) -> T:
    """Run `work` (one transaction); on a connection error, close the connection and run `again` (default:
    `work`), which must also do the right thing if the first try committed and only its answer was lost."""
    if connection.in_atomic_block:
        return work()  # inside a caller's transaction, which the error has broken already
    deadline = time.monotonic() + (settings.DB_RETRY_SECONDS if seconds is None else seconds)
    pause = 0.05
    attempt = work
    while True:
        try:
            return attempt()
        except CONNECTION_ERRORS as exc:
            if time.monotonic() + pause > deadline:
                raise
            logger.warning("Database connection lost while %s (%s); trying again on a new one", what, exc)
            with contextlib.suppress(*CONNECTION_ERRORS):  # already gone; the next query connects again
                connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
            attempt = again or work
