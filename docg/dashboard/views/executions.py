"""The Runs area: the list of an organization's runs and one run's live page with its controls."""

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from docg.audit.choices import ActorType, AuditAction
from docg.common.errors import DocgError
from docg.connectors import registry
from docg.dashboard.context import can_write, dashboard_view, member_object, require_write
from docg.dashboard.run_outputs import attach_outputs, run_documents
from docg.dashboard.views.runs import action_links, parse_json_object, pretty_json, report_view
from docg.dashboard.views.signatures import signers_panel
from docg.executions import control
from docg.executions.choices import ApprovalStatus, ExecutionStatus, LogDomain, LogLevel, Phase, StepStatus
from docg.executions.models import WorkflowApproval, WorkflowExecution
from docg.executions.selectors import (
    execution_audit,
    execution_logs,
    execution_steps,
    organization_executions,
)
from docg.executions.state import TERMINAL, can_transition
from docg.orgs import tenancy
from docg.orgs.models import User
from docg.workflows.models import Workflow

# What the live activity list says for each event (PRODUCT.md section 6).
EVENT_LABELS = {
    "execution.created": _("Run queued"),
    "execution.status_changed": _("Status changed"),
    "execution.progress": _("Progress"),
    "preflight.completed": _("Checks finished"),
    "step.started": _("Step started"),
    "step.completed": _("Step finished"),
    # A step.completed whose step now waits is said as what it waits for (live.js picks these).
    "step.waiting.approval": _("Waiting for approval"),
    "step.waiting.signature": _("Waiting for signatures"),
    "step.waiting.until": _("Waiting until %(time)s"),
    "step.failed": _("Step failed"),
    "execution.completed": _("Run completed"),
    "execution.failed": _("Run failed"),
    "execution.canceled": _("Run canceled"),
    "signature.requested": _("Signature requested"),
    "signature.viewed": _("A signer opened the document"),
    "signature.signed": _("Signed by a signer"),
    "signature.declined": _("Signature declined"),
    "signature.completed": _("Everyone signed"),
    "approval.requested": _("Approval requested"),
    "approval.decided": _("Approval decided"),
    "log.appended": _("Log"),
    "stream.reset": _("Caught up with the current state"),
}
PAGE_SIZE = 25
LOG_LIMIT = 200
# The phases the metrics bar shows, in the order a run goes through them.
BAR_PHASES = (Phase.PREFLIGHT, Phase.RENDER, Phase.DELIVERY, Phase.SIGNATURE)


class ExecutionFilters(forms.Form):
    status = forms.ChoiceField(required=False, label=_("Status"))
    workflow = forms.ModelChoiceField(
        queryset=Workflow.objects.none(), required=False, label=_("Workflow"), empty_label=_("All workflows")
    )
    date_from = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, organization, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), *ExecutionStatus.choices]
        self.fields["workflow"].queryset = Workflow.objects.filter(organization=organization).order_by("name")

    def valid_filters(self) -> dict[str, Any]:
        """The filters that passed validation; a bad one is ignored rather than failing the page."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "status": data.get("status") or "",
            "workflow_id": data["workflow"].pk if data.get("workflow") else None,
            "created_from": data.get("date_from"),
            "created_to": data.get("date_to"),
        }


@dashboard_view
def executions(request):
    """The current organization's runs, newest first, filtered; htmx asks for the rows alone."""
    filters = ExecutionFilters(request.GET or None, organization=request.organization)
    chosen = filters.valid_filters() if request.GET else {}
    runs = organization_executions(organization_id=request.organization.pk, **chosen)
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "ignored": [str(filters.fields[name].label) for name in filters.errors if name in filters.fields],
        "status_labels": status_labels(),
        "page": page,
        "runs": page.object_list,
        "query": query.urlencode(),
        "filtered": any(chosen.values()),
        # The runs list's selection form posts these with "all that match" (dashboard/views/volume.py).
        "selection_filter": {
            name: str(value)
            for name, value in (
                ("status", chosen.get("status")),
                ("workflow", chosen.get("workflow_id")),
                ("date_from", chosen.get("created_from")),
                ("date_to", chosen.get("created_to")),
            )
            if value
        },
    }
    if request.htmx and request.htmx.target == "run-rows":
        return render(request, "dashboard/executions/_rows.html", context)
    return render(request, "dashboard/executions/list.html", context)


def status_labels() -> dict[str, str]:
    """Status names for the live script, in the page's language."""
    return {value: str(label) for value, label in ExecutionStatus.choices}


def _execution(request, pk) -> WorkflowExecution:
    queryset = WorkflowExecution.objects.select_related(
        "workflow", "workflow_version", "parent_execution", "triggered_by"
    )
    return member_object(request, queryset, pk=pk)


def _nodes(execution: WorkflowExecution) -> list[dict]:
    version = execution.workflow_version
    return list((version.definition or {}).get("nodes", [])) if version else []


def duration_text(ms: int | None) -> str:
    if ms is None:
        return ""
    if ms < 1000:
        return gettext("%(ms)d ms") % {"ms": ms}
    seconds = ms / 1000
    if seconds < 60:
        return gettext("%(s).1f s") % {"s": seconds}
    return gettext("%(m)d min %(s)d s") % {"m": seconds // 60, "s": seconds % 60}


def step_type_label(node: dict) -> str:
    """ "Word document · Generate a Word document": the app's and the operation's names, translated."""
    app = registry.get_app(node.get("app", ""))
    name = node.get("operation", "")
    operation = app and (app.actions.get(name) or app.triggers.get(name))
    if operation:
        return f"{app.name} · {operation.label}"
    return f"{node.get('app', '')} · {name.replace('_', ' ')}".strip(" ·")


def _steps(execution: WorkflowExecution, nodes: list[dict]) -> list:
    by_key = {n["key"]: n for n in nodes}
    rows = list(execution_steps(execution=execution).order_by("index", "attempt"))
    for step in rows:
        node = by_key.get(step.node_key, {})
        step.label = node.get("label") or step.node_key
        step.kind_label = step_type_label(node)
        step.operation_name = f"{node.get('app', '')}.{node.get('operation', '')}"
        duration = step.duration_ms
        if duration is None and step.started_at and step.finished_at:
            duration = int((step.finished_at - step.started_at).total_seconds() * 1000)
        step.duration = duration_text(duration)
        step.data_in_text = pretty_json(step.data_in) if step.data_in not in (None, {}) else ""
        step.data_out_text = pretty_json(step.data_out) if step.data_out not in (None, {}) else ""
        step.error_tech_text = pretty_json(step.error_tech) if step.error_tech else ""
    return rows


def _phase_segments(execution: WorkflowExecution) -> list[dict]:
    metrics = execution.phase_metrics or {}
    durations = {
        p: (metrics.get(p) or {}).get("duration_ms") for p in BAR_PHASES if (metrics.get(p) or {}).get("started_at")
    }
    total = sum(d or 0 for d in durations.values())
    segments = []
    for phase, duration in durations.items():
        share = (100 * (duration or 0) / total) if total else 100 / len(durations)
        segments.append(
            {
                "phase": phase,
                "label": Phase(phase).label,
                "duration": duration_text(duration) if duration is not None else gettext("in progress"),
                # Very short phases stay visible as a sliver.
                "width": round(max(share, 3), 1),
            }
        )
    return segments


def _controls(request, execution: WorkflowExecution, nodes: list[dict], steps: list) -> dict[str, Any]:
    status = execution.status
    writer = can_write(request)
    failed = next((s.node_key for s in reversed(steps) if s.status == StepStatus.FAILURE), "")
    # A run waiting for an approval is decided here (message, comment, Approve / Reject), not "resumed".
    approval = (
        WorkflowApproval.objects.filter(execution=execution, status=ApprovalStatus.PENDING).first()
        if status == ExecutionStatus.PAUSED
        else None
    )
    return {
        "approval": approval,
        "can_pause": writer and status != ExecutionStatus.PAUSED and can_transition(status, ExecutionStatus.PAUSED),
        "can_resume": writer and approval is None and status in (ExecutionStatus.PAUSED, ExecutionStatus.NEEDS_REVIEW),
        "can_cancel": writer and can_transition(status, ExecutionStatus.CANCELED),
        "can_retry": writer and status in TERMINAL,
        "retry_steps": [(n["key"], n.get("label") or n["key"]) for n in nodes[1:]],
        "failed_step": failed,
    }


def _detail_context(request, execution: WorkflowExecution) -> dict[str, Any]:
    nodes = _nodes(execution)
    steps = _steps(execution, nodes)
    documents = run_documents(execution=execution)
    attach_outputs(steps, documents, run_ended=execution.status in TERMINAL)
    return {
        "execution": execution,
        "steps": steps,
        "documents": documents,
        "segments": _phase_segments(execution),
        "controls": _controls(request, execution, nodes, steps),
        "failed_steps": [s for s in steps if s.status == StepStatus.FAILURE],
        "last_error_tech": pretty_json(execution.last_error_tech) if execution.last_error_tech else "",
        "actions": action_links(execution.recommended_actions or [], workflow_id=execution.workflow_id),
        "preflight": report_view(execution.preflight_summary, nodes, execution.workflow_id)
        if execution.status == ExecutionStatus.NEEDS_REVIEW and execution.preflight_summary
        else None,
        "trigger_text": pretty_json(execution.trigger_data),
        "retries": list(execution.retries.order_by("-created_at")[:5]),
        "terminal": execution.status in TERMINAL,
        "envelopes": signers_panel(execution.signature_state),
        "can_write": can_write(request),
    }


@dashboard_view
def execution_detail(request, pk):
    """One run, live: status, progress and current step follow the run's SSE stream."""
    execution = _execution(request, pk)
    context = _detail_context(request, execution)
    # EventSource sends no X-Organization-ID: with several organizations the page reads through a stream token.
    context["needs_token"] = len(tenancy.session_memberships(request)) > 1
    context["status_labels"] = status_labels()
    context["event_labels"] = {name: str(label) for name, label in EVENT_LABELS.items()}
    context["until_phase_label"] = Phase(execution.until_phase).label if execution.until_phase in Phase.values else ""
    return render(request, "dashboard/executions/detail.html", context)


@dashboard_view
def execution_parts(request, pk):
    """The parts of the page that change as a run goes on, as htmx out-of-band fragments."""
    execution = _execution(request, pk)
    return render(request, "dashboard/executions/_parts.html", _detail_context(request, execution))


class LogFilters(forms.Form):
    level = forms.ChoiceField(required=False, label=_("Level"))
    domain = forms.ChoiceField(required=False, label=_("Area"))
    step = forms.ChoiceField(required=False, label=_("Step"))

    def __init__(self, *args: Any, steps: list, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [("", _("All levels")), *LogLevel.choices]
        self.fields["domain"].choices = [("", _("All areas")), *LogDomain.choices]
        self.fields["step"].choices = [("", _("All steps"))] + [
            (str(s.pk), f"{s.label}" + (f" (#{s.attempt})" if s.attempt > 1 else "")) for s in steps
        ]


@dashboard_view
def execution_logs_tab(request, pk):
    execution = _execution(request, pk)
    steps = _steps(execution, _nodes(execution))
    form = LogFilters(request.GET or None, steps=steps)
    logs = execution_logs(execution=execution).select_related("step").order_by("timestamp")
    if request.GET:
        form.is_valid()
        chosen = form.cleaned_data
        if chosen.get("level"):
            logs = logs.filter(level=chosen["level"])
        if chosen.get("domain"):
            logs = logs.filter(domain=chosen["domain"])
        if chosen.get("step"):
            logs = logs.filter(step_id=chosen["step"])
    labels = {s.pk: s.label for s in steps}
    rows = list(logs[:LOG_LIMIT])
    for log in rows:
        log.step_label = labels.get(log.step_id, "")
        log.details_text = pretty_json(log.details_tech) if log.details_tech else ""
    context = {"execution": execution, "form": form, "logs": rows, "limited": len(rows) == LOG_LIMIT}
    return render(request, "dashboard/executions/_logs.html", context)


@dashboard_view
def execution_audit_tab(request, pk):
    execution = _execution(request, pk)
    events = list(execution_audit(execution=execution)[:LOG_LIMIT])
    # Who did it, by email (the row keeps the user's id: an email can change, the chain cannot).
    user_ids = {e.actor_id for e in events if e.actor_type == ActorType.USER and _is_uuid(e.actor_id)}
    emails = {str(pk): email for pk, email in User.objects.filter(pk__in=user_ids).values_list("pk", "email")}
    for event in events:
        event.metadata_text = pretty_json(event.event_metadata) if event.event_metadata else ""
        event.action_label = AuditAction(event.action).label if event.action in AuditAction.values else event.action
        event.actor_text = emails.get(event.actor_id) or event.get_actor_type_display()
    return render(request, "dashboard/executions/_audit.html", {"execution": execution, "events": events})


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


CONTROL_DONE = {
    "pause": _("The run is paused: it stops after its current step."),
    "resume": _("The run continues."),
    "cancel": _("The run was canceled: no further step will start."),
}


@require_POST
@dashboard_view
def execution_control(request, pk, verb: str):
    """Pause, resume, cancel or retry a run (writers only); a refused change is shown, never a 500."""
    execution = _execution(request, pk)
    require_write(request)
    back = reverse("dashboard:execution", args=[execution.pk])
    try:
        if verb == "pause":
            control.execution_pause(execution=execution, by=request.user)
        elif verb == "cancel":
            control.execution_cancel(execution=execution, by=request.user, reason=request.POST.get("reason", "")[:500])
        elif verb == "resume":
            changes = parse_json_object(request.POST.get("changes", ""), empty_ok=True)
            control.execution_resume(execution=execution, by=request.user, approved=True, changes=changes)
        elif verb == "retry":
            from_step = request.POST.get("from_step", "")[:64]
            retry = control.execution_retry(execution=execution, by=request.user, from_step=from_step)
            messages.success(request, gettext("A new run was started from this one."))
            return HttpResponseRedirect(reverse("dashboard:execution", args=[retry.pk]))
        else:
            raise Http404("No such action.")
    except ValueError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(back)
    except DocgError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    messages.success(request, CONTROL_DONE[verb])
    return HttpResponseRedirect(back)
