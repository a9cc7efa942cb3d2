"""Starting a run from the dashboard: trigger data, options, and a preflight check before anything is sent."""

import json
import re
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.common.untrusted import UntrustedValueError, loads_untrusted
from docg.dashboard.context import dashboard_view, member_object, require_write
from docg.documents.models import Template
from docg.documents.selectors import clause_variable_names
from docg.executions.engine import execution_start
from docg.executions.models import WorkflowExecution
from docg.executions.preflight import DOMAINS, preflight_check
from docg.workflows.expressions import referenced_paths
from docg.workflows.models import Workflow

UNTIL_CHOICES = [
    ("", _("Run every step")),
    ("preflight", _("Stop after the checks (preflight)")),
    ("render", _("Stop after the document is made")),
    ("delivery", _("Stop after delivery (no signature)")),
]
DOMAIN_LABELS = {
    "data": _("Data"),
    "template": _("Template"),
    "permissions": _("Connections and permissions"),
    "delivery": _("Delivery"),
    "signature": _("Signature"),
}
# What each recommended action does in the dashboard (PRODUCT.md section 5); the pages belong to other areas.
ACTION_TEXT = {
    "reconnect_provider": (_("Reconnect"), _("Sign in to the provider again to renew the connection.")),
    "fix_permissions": (_("Fix permissions"), _("Give docg access to the file or folder.")),
    "select_template": (_("Choose a template"), _("Pick the template this step should use.")),
    "map_fields": (_("Map fields"), _("Tell the workflow where each missing field comes from.")),
    "retry_later": (_("Retry later"), _("The provider is busy: try again in a few minutes.")),
}


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def parse_json_object(text: str, *, empty_ok: bool = True) -> dict:
    """A JSON object from a text box; ValueError with a message a business user can act on."""
    text = (text or "").strip()
    if not text:
        if empty_ok:
            return {}
        raise ValueError(gettext('Enter the data as JSON, for example {"customer": "Ana"}.'))
    try:
        value = loads_untrusted(text)
    except UntrustedValueError as exc:
        raise ValueError(gettext("This data cannot be saved: %(why)s") % {"why": str(exc)}) from exc
    except json.JSONDecodeError as exc:
        raise ValueError(
            gettext("This is not valid JSON (line %(line)d, column %(col)d): %(msg)s.")
            % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}
        ) from exc
    except RecursionError as exc:
        raise ValueError(gettext("This JSON is nested too deeply.")) from exc
    if not isinstance(value, dict):
        raise ValueError(gettext('The data must be a JSON object in braces, for example {"customer": "Ana"}.'))
    if len(text.encode()) > settings.MAX_TRIGGER_DATA_BYTES:
        raise ValueError(gettext("The data is too large (limit %(n)d bytes).") % {"n": settings.MAX_TRIGGER_DATA_BYTES})
    return value


def action_links(actions: list[dict], *, workflow_id: Any) -> list[dict[str, Any]]:
    """Recommended actions as things a person can click: a page that fixes the problem, or a retry."""
    paths = {
        "reconnect_provider": "/connections/",
        "fix_permissions": "/connections/",
        "select_template": "/templates/",
        "map_fields": f"/workflows/{workflow_id}/",
        "edit_step": f"/workflows/{workflow_id}/",
    }
    links = []
    for action in actions:
        kind = action.get("action", "")
        label, description = ACTION_TEXT.get(kind, (action.get("label") or kind, action.get("description", "")))
        links.append(
            {"action": kind, "label": label, "description": description, "url": paths.get(kind, ""),
             "node_key": action.get("node_key", "")}
        )  # fmt: skip
    return links


class RunForm(forms.Form):
    trigger_data = forms.CharField(
        required=False,
        label=_("Trigger data (JSON)"),
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "data-json-editor": ""}),
        help_text=_("The data the run starts with, as a JSON object. Leave it empty to start with no data."),
    )
    dry_run = forms.BooleanField(
        required=False,
        label=_("Dry run"),
        help_text=_("Make the documents but send nothing and request no signature."),
    )
    until_phase = forms.ChoiceField(required=False, choices=UNTIL_CHOICES, label=_("Stop after"))

    def clean_trigger_data(self) -> dict:
        try:
            return parse_json_object(self.cleaned_data.get("trigger_data", ""))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


def _skeleton(nodes: list[dict], *, organization: Any = None) -> dict:
    """A starting point for the trigger data: every `trigger.*` field the workflow or its templates read, blank."""
    found: dict = {}
    for path in [*_expression_paths(nodes), *_template_paths(nodes, organization)]:
        parts = path.split(".")
        if parts[0] != "trigger" or len(parts) < 2:
            continue
        target = found
        for part in parts[1:-1]:
            # A blank leaf ("") met again with a field inside it becomes an object.
            if not isinstance(target.get(part), dict):
                if target.get(part) not in (None, ""):
                    break
                target[part] = {}
            target = target[part]
        else:
            target.setdefault(parts[-1], "")
    return found


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _expression_paths(nodes: list[dict]) -> list[str]:
    paths = []
    for node in nodes[1:]:
        sources = list(_strings(node.get("parameters") or {})) + [b.get("when", "") for b in node.get("branches") or []]
        for source in sources:
            paths.extend(referenced_paths(source))
    return paths


_WHOLE_PATH = re.compile(r"^\{\{\s*(trigger(?:\.\w+)*)\s*\}\}$")


def _template_paths(nodes: list[dict], organization: Any) -> list[str]:
    """The variables of the templates render steps fill from the trigger's data (theirs, or a field of it)."""
    wanted: dict[str, str] = {}  # template id -> where in the trigger data the template reads
    for node in nodes[1:]:
        parameters = node.get("parameters") or {}
        if node.get("operation") != "render" or not isinstance(parameters.get("template_id"), str):
            continue
        data = parameters.get("data", "{{ trigger }}")
        whole = _WHOLE_PATH.match(data.strip()) if isinstance(data, str) else None
        if whole:
            wanted[parameters["template_id"]] = whole[1]
    if organization is None or not wanted:
        return []
    ids = [pk for pk in wanted if _is_uuid(pk)]
    templates = Template.objects.filter(organization=organization, pk__in=ids).only("pk", "variables")
    from_clauses = clause_variable_names(organization_id=organization.pk, template_ids=ids)
    paths = [
        f"{wanted[str(t.pk)]}.{v['name']}"
        for t in templates
        for v in t.variables or []
        if isinstance(v, dict) and isinstance(v.get("name"), str)
    ]
    clause_paths = [f"{wanted[pk]}.{name}" for pk, names in from_clauses.items() for name in names]
    return paths + [p for p in clause_paths if p not in paths]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def report_view(report: dict, nodes: list[dict], workflow_id: Any) -> dict[str, Any]:
    """A preflight report with step labels, its domains in order and its actions as links."""
    labels = {n["key"]: n.get("label") or n["key"] for n in nodes}
    for issue in report.get("blocking", []) + report.get("warnings", []):
        issue["node_label"] = labels.get(issue.get("node_key", ""), issue.get("node_key", ""))
    return {
        **report,
        "domains": [(d, DOMAIN_LABELS[d], (report.get("groups") or {}).get(d, [])) for d in DOMAINS],
        "actions": action_links(report.get("recommended_actions") or [], workflow_id=workflow_id),
    }


@dashboard_view
def workflow_run(request, pk):
    """GET: the run form. POST: check first (preflight only) or start the run and open its live page."""
    workflow = member_object(request, Workflow.objects.select_related("active_version"), pk=pk)
    require_write(request)
    version = workflow.active_version
    nodes = list(version.definition["nodes"]) if version else []
    report = None
    if request.method == "POST":
        form = RunForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if version is None:
                form.add_error(None, gettext("This workflow is not active yet: activate it before running it."))
            elif request.POST.get("action") == "check":
                checked = preflight_check(
                    organization=request.organization,
                    nodes=nodes,
                    trigger_data=data["trigger_data"],
                    workflow_id=workflow.pk,
                )
                report = report_view(checked, nodes, workflow.pk)
            else:
                try:
                    execution = execution_start(
                        workflow=workflow,
                        trigger_data=data["trigger_data"],
                        by=request.user,
                        dry_run=data["dry_run"],
                        until_phase=data["until_phase"],
                    )
                except DocgError as exc:
                    form.add_error(None, exc.message)
                else:
                    return HttpResponseRedirect(reverse("dashboard:execution", args=[execution.pk]))
    else:
        initial = _skeleton(nodes, organization=request.organization)
        source = request.GET.get("from", "")
        if source:
            previous = WorkflowExecution.objects.filter(
                organization_id=workflow.organization_id, workflow=workflow, pk__in=_uuid_list(source)
            ).first()
            initial = previous.trigger_data if previous else initial
        form = RunForm(initial={"trigger_data": pretty_json(initial)})
    context = {
        "workflow": workflow,
        "form": form,
        "report": report,
        "steps": [(n.get("label") or n["key"]) for n in nodes[1:]],
    }
    return render(request, "dashboard/runs/form.html", context)


def _uuid_list(raw: str) -> list[str]:
    import uuid

    try:
        return [str(uuid.UUID(raw))]
    except ValueError:
        return []
