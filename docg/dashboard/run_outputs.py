"""What a run produced, in words: each step's key output and the documents the run generated.

The run page showed only raw JSON ("Data out"); a business user wants "Created the document
“contract.pdf” (2 KB)" and a link to it. Raw JSON stays available beside the words.
"""

from datetime import timedelta
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from docg.dashboard.views.documents import PREVIEWABLE
from docg.documents.models import GeneratedDocument
from docg.executions.choices import StepStatus

# A scalar output longer than this is cut: the words are a summary, the JSON beside them is complete.
MAX_VALUE_CHARS = 60
MAX_FIELDS = 4


def run_documents(*, execution: Any) -> list[GeneratedDocument]:
    """Every document the run generated, oldest first, each marked previewable or not."""
    documents = list(
        GeneratedDocument.objects.filter(organization_id=execution.organization_id, execution=execution).order_by(
            "created_at"
        )
    )
    for document in documents:
        document.previewable = document.content_type in PREVIEWABLE
        document.size_text = filesizeformat(document.size_bytes)
    return documents


def attach_outputs(steps: list, documents: list[GeneratedDocument], *, run_ended: bool = False) -> None:
    """Give each step its documents and a one-line summary of what it produced."""
    by_key: dict[str, list[GeneratedDocument]] = {}
    for document in documents:
        by_key.setdefault(document.node_key, []).append(document)
    by_id = {str(d.pk): d for d in documents}
    for step in steps:
        step.documents = by_key.get(step.node_key, []) if step.status == StepStatus.SUCCESS else []
        step.output_text = output_text(step.data_out, by_id) if step.status == StepStatus.SUCCESS else ""
        if step.status == StepStatus.SUCCESS and getattr(step, "operation_name", "") == "core.delay":
            step.output_text = _delay_text(step, run_ended=run_ended)


def _delay_text(step: Any, *, run_ended: bool) -> str:
    """A delay step is "waiting until 14:05" until the wait ends, then says how long it waited."""
    seconds = (step.data_out or {}).get("seconds")
    if not isinstance(seconds, int | float) or step.finished_at is None:
        return ""
    resume_at = step.finished_at + timedelta(seconds=seconds)
    if not run_ended and resume_at > timezone.now():
        return gettext("Waiting until %(time)s") % {"time": date_format(timezone.localtime(resume_at), "H:i")}
    return gettext("Waited %(seconds)s s") % {"seconds": seconds}


def output_text(data_out: Any, documents: dict[str, GeneratedDocument] | None = None) -> str:
    """A step's output in one line of words ("" when there is nothing to say)."""
    if not isinstance(data_out, dict) or not data_out:
        return ""
    document_id = data_out.get("document_id")
    if document_id:
        document = (documents or {}).get(str(document_id))
        name = data_out.get("name") or (document.name if document else "")
        size = data_out.get("size_bytes", document.size_bytes if document else None)
        if isinstance(size, int):
            return gettext("Created the document “%(name)s” (%(size)s)") % {"name": name, "size": filesizeformat(size)}
        return gettext("Created the document “%(name)s”") % {"name": name}
    fields = [(k, v) for k, v in data_out.items() if not str(k).startswith("_") and _is_scalar(v)]
    if not fields:
        return gettext("Produced %(keys)s") % {"keys": ", ".join(list(map(str, data_out))[:MAX_FIELDS])}
    words = [f"{k}: {_short(v)}" for k, v in fields[:MAX_FIELDS]]
    if len(fields) > MAX_FIELDS:
        words.append("…")
    return " · ".join(words)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _short(value: Any) -> str:
    if value is True:
        return gettext("yes")
    if value is False:
        return gettext("no")
    if value is None:
        return "—"
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"
