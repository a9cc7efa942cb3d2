"""A time budget for one render: a hostile or careless template must not hold a worker thread.

`{% for a in range(100000) %}{% for b in range(100000) %}…` is legal in the
sandbox and would run for hours. Python cannot kill a thread, but it can raise
an exception in one at its next bytecode (what Dramatiq's TimeLimit does for
whole actors): a timer does that when the budget is spent. C code (lxml
parsing a huge part) is interrupted when it returns to Python.
"""

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class RenderTimeout(Exception):
    """Raised inside the rendering thread when its time budget is spent."""


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    # None clears an exception that was set but has not been raised yet.
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else None)


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise RenderTimeout in this thread if the block runs longer than `seconds` (0: no limit)."""
    if seconds <= 0:
        yield
        return
    thread_id = threading.get_ident()
    lock = threading.Lock()
    state = {"active": True, "fired": False}

    def expire() -> None:
        with lock:
            if state["active"]:
                state["fired"] = True
                _set_async_exc(thread_id, RenderTimeout)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["active"] = False
            timer.cancel()
            if state["fired"]:
                _set_async_exc(thread_id, None)
