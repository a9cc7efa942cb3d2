"""Phase timings (preflight, trigger, render, delivery, signature) kept on the execution."""

from datetime import datetime

from docg.executions.choices import Phase

# `until_phase` may stop a run after these.
STOPPABLE = frozenset({Phase.PREFLIGHT, Phase.RENDER, Phase.DELIVERY})


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def start(execution, phase: str, at: datetime) -> None:
    metrics = dict(execution.phase_metrics or {})
    entry = metrics.get(phase) or {}
    if not entry.get("started_at"):
        metrics[phase] = {"started_at": _iso(at), "completed_at": None, "duration_ms": None}
        execution.phase_metrics = metrics


def complete(execution, phase: str, at: datetime) -> None:
    metrics = dict(execution.phase_metrics or {})
    entry = dict(metrics.get(phase) or {"started_at": _iso(at)})
    began = datetime.fromisoformat(entry["started_at"].replace("Z", "+00:00"))
    entry["completed_at"] = _iso(at)
    entry["duration_ms"] = max(0, int((at - began).total_seconds() * 1000))
    metrics[phase] = entry
    execution.phase_metrics = metrics


def record(execution, phase: str, started: datetime, completed: datetime) -> None:
    start(execution, phase, started)
    complete(execution, phase, completed)
