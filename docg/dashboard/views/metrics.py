"""Metrics: runs per day by outcome and phase durations as server-drawn SVG charts, and the slowest steps.

The charts are plain SVG computed here (no JavaScript, no external assets); each has a
<title>/<desc> and the same numbers as a table for screen readers and for copying.
"""

import math
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from docg.dashboard import metrics
from docg.dashboard.context import dashboard_view

# Chart canvas (viewBox units; the SVG scales to its container).
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 34


def _outcome_label(outcome: str) -> str:
    return {
        "completed": _("Completed"),
        "failed": _("Failed"),
        "canceled": _("Canceled"),
        "in_progress": _("In progress"),
    }[outcome]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (axis maximum), at least 1."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def human_ms(ms: float | None) -> str:
    """A duration as a person reads it: 850 ms, 2.4 s, 3 min 5 s."""
    if ms is None:
        return _("no data")
    if ms < 1000:
        return f"{int(ms)} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _ticks(maximum: float, plot_height: float) -> list[dict[str, Any]]:
    """Gridlines at whole numbers: nice_ceiling's maxima (1, 2, 5, 10, 20, 50, ...) divide evenly."""
    parts = int(maximum) if maximum <= 5 else 5
    return [
        {"y": round(TOP + plot_height - plot_height * i / parts, 1), "label": str(int(maximum * i / parts))}
        for i in range(parts + 1)
    ]


def runs_chart(days: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacked bars: one per day, one segment per outcome."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    maximum = nice_ceiling(max((d["total"] for d in days), default=0))
    band = plot_w / max(len(days), 1)
    bar_w = max(2.0, band * 0.7)
    label_every = max(1, math.ceil(len(days) / 10))
    bars = []
    for i, day in enumerate(days):
        x = LEFT + i * band + (band - bar_w) / 2
        y = TOP + plot_h
        segments = []
        for outcome in metrics.OUTCOMES:
            count = day["counts"][outcome]
            if not count:
                continue
            height = plot_h * count / maximum
            y -= height
            segments.append(
                {"outcome": outcome, "x": round(x, 1), "y": round(y, 1), "w": round(bar_w, 1), "h": round(height, 1)}
            )
        label = formats.date_format(day["day"], "d/m") if i % label_every == 0 else ""
        bars.append(
            {
                "day": day["day"],
                "total": day["total"],
                "counts": day["counts"],
                "segments": segments,
                "label": label,
                "label_x": round(x + bar_w / 2, 1),
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": TOP + plot_h,
        "label_y": HEIGHT - 12,
        "ticks": _ticks(maximum, plot_h),
        "bars": bars,
        "legend": [{"outcome": o, "label": _outcome_label(o)} for o in metrics.OUTCOMES],
    }


def phases_chart(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """Horizontal bars: per phase a p50 bar and a p95 bar, on one time scale."""
    label_w, row_h, bar_h = 110, 44, 14
    height = TOP + row_h * len(phases)
    plot_w = WIDTH - label_w - RIGHT - 70
    maximum = max((p["p95"] or 0 for p in phases), default=0) or 1
    rows = []
    for i, phase in enumerate(phases):
        y = TOP + i * row_h
        bars = []
        # A phase never measured gets one "no data" line rather than two empty bars.
        for j, key in enumerate(("p50", "p95") if phase["count"] else ("p50",)):
            value = phase[key]
            width = plot_w * (value or 0) / maximum
            bars.append(
                {
                    "key": key,
                    "x": label_w,
                    "y": y + j * (bar_h + 2),
                    "w": round(max(width, 1 if value else 0), 1),
                    "h": bar_h,
                    "text": human_ms(value),
                    "text_x": round(label_w + width + 6, 1),
                    "text_y": y + j * (bar_h + 2) + bar_h - 3,
                }
            )
        rows.append(
            {
                **phase,
                "y_label": y + bar_h + 4,
                "bars": bars,
                "p50_text": human_ms(phase["p50"]),
                "p95_text": human_ms(phase["p95"]),
            }
        )
    return {"width": WIDTH, "height": height, "label_w": label_w - 8, "rows": rows}


@require_safe
@dashboard_view
def metrics_page(request: HttpRequest) -> HttpResponse:
    """How the organization's runs went over the last 7, 30 or 90 days."""
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    if days not in metrics.ALLOWED_DAYS:
        days = 30
    organization = request.organization
    per_day = metrics.executions_per_day(organization=organization, days=days)
    phases = metrics.phase_durations(organization=organization, days=days)
    steps = metrics.slowest_steps(organization=organization, days=days)
    for step in steps:
        step.update(p50_text=human_ms(step["p50"]), p95_text=human_ms(step["p95"]), max_text=human_ms(step["max"]))
    context = {
        "days": days,
        "choices": metrics.ALLOWED_DAYS,
        "summary": metrics.run_summary(organization=organization, days=days),
        "runs_chart": runs_chart(per_day),
        "phases_chart": phases_chart(phases),
        "has_phases": any(p["count"] for p in phases),
        "steps": steps,
    }
    return render(request, "dashboard/metrics/page.html", context)
