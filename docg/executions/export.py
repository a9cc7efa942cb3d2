"""CSV export of a filtered run list (issue 15), streamed: rows are read through a server-side
cursor in chunks and written line by line, so 100,000 runs never sit in memory at once."""

import csv
from collections.abc import Iterator

from django.db.models import QuerySet

from docg.executions.models import WorkflowExecution

COLUMNS = (
    ("id", "id"),
    ("workflow_id", "workflow_id"),
    ("workflow", "workflow__name"),
    ("version", "workflow_version__number"),
    ("status", "status"),
    ("progress", "progress"),
    ("error_code", "last_error_code"),
    ("error", "last_error_human"),
    ("parent_execution", "parent_execution_id"),
    ("dry_run", "dry_run"),
    ("correlation_id", "correlation_id"),
    ("created_at", "created_at"),
    ("started_at", "started_at"),
    ("completed_at", "completed_at"),
)
CHUNK = 1000


class _Line:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    # A cell a spreadsheet would run as a formula (=, +, -, @) is quoted as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def executions_csv(runs: QuerySet[WorkflowExecution]) -> Iterator[str]:
    """The header, then one CSV line per run, newest first."""
    writer = csv.writer(_Line())
    yield writer.writerow([name for name, _ in COLUMNS])
    rows = runs.order_by("-created_at", "-id").values_list(*(field for _, field in COLUMNS))
    for row in rows.iterator(chunk_size=CHUNK):
        yield writer.writerow([_cell(v) for v in row])
