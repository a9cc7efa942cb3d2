"""Give memory freed by a large request back to the operating system.

Inspecting a template upload parses its XML parts (lxml trees, Jinja's AST): tens
of megabytes of small objects for a large package. Python frees them when the
request ends, but glibc's allocator keeps the freed pages in its arenas, so the
web process's RSS stayed at its peak after every large upload (904 MiB after
the probe's uploads). malloc_trim returns those pages; it is a no-op elsewhere.
"""

import ctypes
import ctypes.util
import gc
from functools import lru_cache


@lru_cache(maxsize=1)
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc.malloc_trim if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_freed_memory() -> None:
    """Collect cycles, then hand free heap pages back to the OS (glibc only)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
