"""Reads behind the metrics page: runs per day by outcome, phase durations, the slowest steps.

Counting per day is done by the database (TruncDate + Count works on PostgreSQL and
SQLite alike). Percentiles are computed here in Python over a bounded window of the
newest rows, so `make run` on SQLite gives the same numbers as PostgreSQL and no
request ever reads an unbounded table.
"""

import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, F
from django.db.models.functions import TruncDate
from django.utils import timezone

from docg.executions.choices import ExecutionStatus, Phase
from docg.executions.models import ExecutionStep, WorkflowExecution
from docg.orgs.models import Organization

# Runs are grouped into these outcomes; every other status is still in progress.
OUTCOMES = ("completed", "failed", "canceled", "in_progress")
_TERMINAL = {
    ExecutionStatus.COMPLETED: "completed",
    ExecutionStatus.FAILED: "failed",
    ExecutionStatus.CANCELED: "canceled",
}
PHASES = [Phase.PREFLIGHT, Phase.TRIGGER, Phase.RENDER, Phase.DELIVERY, Phase.SIGNATURE]
# Percentiles read at most this many of the newest rows of the window.
PHASE_WINDOW = 2000
STEP_WINDOW = 5000
ALLOWED_DAYS = (7, 30, 90)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0-100) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def window_start(days: int, *, now: datetime | None = None) -> tuple[date, datetime]:
    """First day of a `days`-long window ending today (local time), and its first moment."""
    now = timezone.localtime(now or timezone.now())
    first = now.date() - timedelta(days=days - 1)
    return first, timezone.make_aware(datetime.combine(first, datetime.min.time()), now.tzinfo)


def _runs(organization: Organization, since: datetime):
    return WorkflowExecution.objects.filter(organization=organization, created_at__gte=since)


def executions_per_day(*, organization: Organization, days: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """One entry per day of the window (empty days included): `{day, counts: {outcome: n}, total}`."""
    first, since = window_start(days, now=now)
    rows = (
        _runs(organization, since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
    for row in rows:
        counts[row["day"]][_TERMINAL.get(row["status"], "in_progress")] += row["n"]
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        per_outcome = counts.get(day, dict.fromkeys(OUTCOMES, 0))
        result.append({"day": day, "counts": per_outcome, "total": sum(per_outcome.values())})
    return result


def phase_durations(*, organization: Organization, days: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per phase: how many runs measured it and their p50 / p95 duration in ms (from `phase_metrics`)."""
    _, since = window_start(days, now=now)
    samples: dict[str, list[int]] = {phase: [] for phase in PHASES}
    metrics = _runs(organization, since).order_by("-created_at").values_list("phase_metrics", flat=True)
    for entry in metrics[:PHASE_WINDOW]:
        for phase, measured in (entry or {}).items():
            duration = measured.get("duration_ms") if isinstance(measured, dict) else None
            if phase in samples and isinstance(duration, int | float) and duration >= 0:
                samples[phase].append(duration)
    return [
        {
            "phase": phase.value,
            "label": phase.label,
            "count": len(samples[phase]),
            "p50": percentile(samples[phase], 50),
            "p95": percentile(samples[phase], 95),
        }
        for phase in PHASES
    ]


def slowest_steps(
    *, organization: Organization, days: int, limit: int = 10, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Steps grouped by workflow and node, slowest p95 first, each with the run of its slowest attempt."""
    _, since = window_start(days, now=now)
    rows = (
        ExecutionStep.objects.filter(
            organization=organization, execution__created_at__gte=since, duration_ms__isnull=False
        )
        .order_by("-created_at")
        .values("node_key", "duration_ms", "execution_id", workflow_id=F("execution__workflow_id"))
        .annotate(workflow_name=F("execution__workflow__name"))[:STEP_WINDOW]
    )
    groups: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = (row["workflow_id"], row["node_key"])
        group = groups.setdefault(
            key,
            {"workflow": row["workflow_name"], "node_key": row["node_key"], "durations": [], "slowest": None},
        )
        group["durations"].append(row["duration_ms"])
        if group["slowest"] is None or row["duration_ms"] > group["slowest"][0]:
            group["slowest"] = (row["duration_ms"], row["execution_id"])
    result = [
        {
            "workflow": group["workflow"],
            "node_key": group["node_key"],
            "count": len(group["durations"]),
            "p50": percentile(group["durations"], 50),
            "p95": percentile(group["durations"], 95),
            "max": group["slowest"][0],
            "slowest_execution_id": group["slowest"][1],
        }
        for group in groups.values()
    ]
    result.sort(key=lambda g: (g["p95"], g["max"]), reverse=True)
    return result[:limit]


def run_summary(*, organization: Organization, days: int, now: datetime | None = None) -> dict[str, Any]:
    """Totals of the window: runs, finished ones, how many completed, failed, and the completion rate."""
    _, since = window_start(days, now=now)
    by_status = dict(
        _runs(organization, since).values_list("status").annotate(n=Count("id")).order_by().values_list("status", "n")
    )
    total = sum(by_status.values())
    completed = by_status.get(ExecutionStatus.COMPLETED, 0)
    failed = by_status.get(ExecutionStatus.FAILED, 0)
    canceled = by_status.get(ExecutionStatus.CANCELED, 0)
    finished = completed + failed + canceled
    return {
        "total": total,
        "completed": completed,
        "failed": failed,
        "canceled": canceled,
        "in_progress": total - finished,
        "success_rate": round(100 * completed / finished) if finished else None,
    }
