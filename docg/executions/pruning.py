"""Removal of event streams nobody needs any more (Redis TTLs do most of it; this catches the rest)."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from docg.executions.models import WorkflowExecution
from docg.executions.state import TERMINAL
from docg.executions.streams import get_streams


def streams_prune(*, older_than_seconds: int | None = None) -> dict[str, list[str]]:
    """Delete streams of executions finished more than the TTL ago, or of executions that no longer exist."""
    streams = get_streams()
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds or settings.REDIS_STREAM_TTL)
    keys = streams.keys("docg:exec:")
    by_id = {}
    for key in keys:
        try:
            by_id[uuid.UUID(key.rsplit(":", 1)[1])] = key
        except ValueError:
            continue
    alive = {
        row["pk"]: row
        for row in WorkflowExecution.objects.filter(pk__in=list(by_id)).values("pk", "status", "completed_at")
    }
    removed = {"finished": [], "orphaned": []}
    for execution_id, key in by_id.items():
        row = alive.get(execution_id)
        if row is None:
            streams.delete(key)
            removed["orphaned"].append(key)
        elif row["status"] in TERMINAL and row["completed_at"] and row["completed_at"] < cutoff:
            streams.delete(key)
            removed["finished"].append(key)
    return removed
