"""Dashboard: the workflows list and the visual workflow editor.

The editor page is server-rendered; static/js/editor/ (ES modules) draws the graph and posts the
whole definition back as JSON. Input is checked with the REST API's own serializer and
saved through the workflow services, so the dashboard and the API judge a workflow the
same way. Problems come back as `{node_key, field, message}` for the editor to show
beside the offending step and field.
"""

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from docg.common.errors import DocgError
from docg.common.untrusted import UntrustedValueError, loads_untrusted
from docg.connectors import registry
from docg.connectors.choices import ConnectionStatus
from docg.connectors.models import DataSourceConnection
from docg.dashboard.context import can_write, dashboard_view, member_object, require_write
from docg.documents import selectors
from docg.documents.models import Template
from docg.executions.choices import ExecutionStatus
from docg.executions.models import WorkflowExecution
from docg.executions.selectors import RunSummary, workflow_run_summaries
from docg.workflows import services
from docg.workflows.api.serializers import WorkflowInput
from docg.workflows.models import Workflow
from docg.workflows.selectors import workflows_with_nodes
from docg.workflows.services import node_to_dict

PAGE_SIZE = 50
# "variables: 'x' is not of type 'string'" or "parameters: 'url' is a required property" (graph.schema_errors).
_WHERE = re.compile(r"^(?P<where>[^:\s]+): (?P<message>.*)$", re.S)
_REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property$")


@dashboard_view
def home(request: HttpRequest) -> HttpResponse:
    """The current organization's workflows with their last run and recent success rate."""
    queryset = (
        workflows_with_nodes()
        .filter(organization=request.organization, archived_at__isnull=True)
        .order_by("-updated_at")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    workflows = list(page.object_list)
    summaries = workflow_run_summaries(organization=request.organization, workflow_ids=[w.pk for w in workflows])
    rows = [
        {"workflow": w, "runs": summaries.get(w.pk), "run_status": _run_status(summaries.get(w.pk))} for w in workflows
    ]
    return render(request, "dashboard/home.html", {"rows": rows, "page": page, "workflows": workflows})


def _run_status(summary: RunSummary | None) -> str:
    if summary is None:
        return ""
    try:
        return str(ExecutionStatus(summary.last_run_status).label)
    except ValueError:
        return summary.last_run_status


@require_http_methods(["GET", "POST"])
@dashboard_view
def workflow_new(request: HttpRequest) -> HttpResponse:
    """The editor for a new workflow; its POST (JSON) creates the workflow."""
    require_write(request)
    if request.method == "POST":
        payload, error = _payload(request)
        if error:
            return error
        try:
            data = _validated(request, payload, partial=False)
            workflow = services.workflow_create(organization=request.organization, by=request.user, **data)
        except DocgError as exc:
            return _problems_response(exc, _("This workflow cannot be saved yet."))
        messages.success(request, _("Workflow saved."))
        url = reverse("dashboard:workflow", args=[workflow.pk])
        return JsonResponse({"id": str(workflow.pk), "url": url, "urls": _urls(workflow)}, status=201)
    return render(request, "dashboard/workflows/editor.html", _editor_context(request, None))


@require_http_methods(["GET", "POST"])
@dashboard_view
def workflow_detail(request: HttpRequest, pk) -> HttpResponse:
    """One workflow: its graph (editable for writers, read-only for viewers) and its versions; POST saves it."""
    workflow = member_object(request, workflows_with_nodes(), pk=pk)
    if request.method == "POST":
        require_write(request)
        payload, error = _payload(request)
        if error:
            return error
        try:
            data = _validated(request, payload, partial=True)
            services.workflow_update(workflow=workflow, by=request.user, **data)
        except DocgError as exc:
            return _problems_response(exc, _("This workflow cannot be saved yet."))
        return JsonResponse({"id": str(workflow.pk), "saved": True})
    return render(request, "dashboard/workflows/editor.html", _editor_context(request, workflow))


@require_POST
@dashboard_view
def workflow_activate(request: HttpRequest, pk) -> HttpResponse:
    """Freeze the current graph into a new version and run it from now on; problems come back per step."""
    workflow = member_object(request, Workflow.objects.all(), pk=pk)
    require_write(request)
    try:
        version = services.workflow_activate(workflow=workflow, by=request.user)
    except DocgError as exc:
        if _wants_json(request):
            return _problems_response(exc, _("This workflow cannot be activated yet."))
        messages.error(request, _("This workflow cannot be activated yet: %(reason)s") % {"reason": exc.message})
        return HttpResponseRedirect(reverse("dashboard:workflow", args=[workflow.pk]))
    messages.success(request, _("Workflow activated: version %(number)s now runs.") % {"number": version.number})
    return _done(request, workflow, version=version.number)


@require_POST
@dashboard_view
def workflow_deactivate(request: HttpRequest, pk) -> HttpResponse:
    """Stop new runs from starting; the versions stay."""
    workflow = member_object(request, Workflow.objects.all(), pk=pk)
    require_write(request)
    services.workflow_deactivate(workflow=workflow, by=request.user)
    messages.success(request, _("Workflow deactivated: no new runs will start."))
    return _done(request, workflow)


def _done(request: HttpRequest, workflow: Workflow, **extra: Any) -> HttpResponse:
    url = reverse("dashboard:workflow", args=[workflow.pk])
    if _wants_json(request):
        return JsonResponse({"ok": True, "url": url, **extra})
    return HttpResponseRedirect(url)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _payload(request: HttpRequest) -> tuple[Any, HttpResponse | None]:
    try:
        payload = loads_untrusted(request.body or b"{}")
    except RequestDataTooBig:
        return None, _error(_("This workflow is too large to save."), status=413)
    except UntrustedValueError as exc:
        return None, _error(_("This workflow cannot be saved: %(why)s") % {"why": str(exc)})
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
        return None, _error(_("The editor sent something that is not valid JSON. Reload the page and try again."))
    if not isinstance(payload, dict):
        return None, _error(_("The editor sent something that is not a workflow. Reload the page and try again."))
    return payload, None


def _validated(request: HttpRequest, payload: dict, *, partial: bool) -> dict:
    """The API's input checks (types, slugs, the organization's own connections), as service arguments."""
    serializer = WorkflowInput(data=payload, partial=partial, context={"organization": request.organization})
    if not serializer.is_valid():
        raise DocgError(
            "validation_error",
            _("Some fields need attention."),
            details={"errors": input_problems(serializer.errors, payload)},
        )
    return dict(serializer.validated_data)


def _error(message: str, *, status: int = 400, problems: list | None = None) -> JsonResponse:
    return JsonResponse({"message": message, "problems": problems or []}, status=status)


def _problems_response(exc: DocgError, headline: str) -> JsonResponse:
    """Problems with a step or field go beside it; the headline says what did not happen."""
    problems = exc.details.get("errors") if isinstance(exc.details, dict) else None
    if not problems:
        return _error(exc.message, status=exc.status_code if 400 <= exc.status_code < 500 else 400)
    return _error(headline, problems=[editor_problem(p) for p in problems])


def editor_problem(problem: dict) -> dict:
    """A service problem with its field made precise: `parameters.<name>` where the schema error names one."""
    field, message = problem.get("field") or "", problem.get("message") or ""
    if field == "parameters":
        match = _WHERE.match(message)
        if match:
            where, message = match["where"], match["message"]
            required = _REQUIRED.match(message)
            if where == "parameters" and required:
                field = f"parameters.{required['name']}"
            elif where != "parameters":
                field = f"parameters.{where.split('.')[0]}"
    return {
        "node_key": problem.get("node_key") or "",
        "field": field,
        "code": problem.get("code", ""),
        "message": _plain_words(message) if field.startswith("parameters") else message,
    }


# JSON-schema's wording ("'key' is a required property") in words a business user reads.
_PLAIN_WORDS = [
    (_REQUIRED, lambda m: _("This field is required.")),
    (re.compile(r"is not of type 'integer'$"), lambda m: _("Enter a whole number.")),
    (re.compile(r"is not of type 'number'$"), lambda m: _("Enter a number.")),
    (re.compile(r"is not of type 'string'$"), lambda m: _("Enter text.")),
    (re.compile(r"is not of type 'boolean'$"), lambda m: _("Choose yes or no.")),
    (re.compile(r"(is too short|should be non-empty)$"), lambda m: _("This field cannot be empty.")),
    (re.compile(r"is not one of "), lambda m: _("Choose one of the options.")),
    (re.compile(r"is less than (the minimum of )?(?P<n>\S+)$"), lambda m: _("Must be at least %(n)s.") % {"n": m["n"]}),
    (
        re.compile(r"is greater than (the maximum of )?(?P<n>\S+)$"),
        lambda m: _("Must be at most %(n)s.") % {"n": m["n"]},
    ),
    (
        re.compile(r"Additional properties are not allowed \((?P<names>.*) (was|were) unexpected\)"),
        lambda m: _("Not a setting of this step: %(names)s.") % {"names": m["names"]},
    ),
]


def _plain_words(message: str) -> str:
    for pattern, words in _PLAIN_WORDS:
        match = pattern.search(message)
        if match:
            return words(match)
    return message


def input_problems(errors: Any, payload: dict) -> list[dict]:
    """DRF serializer errors as editor problems; node errors carry the key of the node they belong to."""
    problems: list[dict] = []
    nodes = payload.get("nodes") if isinstance(payload.get("nodes"), list) else []
    for name, detail in errors.items():
        if name == "nodes" and isinstance(detail, list):
            for index, node_errors in enumerate(detail):
                node = nodes[index] if index < len(nodes) and isinstance(nodes[index], dict) else {}
                key = str(node.get("key") or "")
                by_field = node_errors if isinstance(node_errors, dict) else {"nodes": node_errors}
                for field, messages_ in by_field.items():
                    for message in _flatten(messages_):
                        problems.append({"node_key": key, "field": field, "code": "invalid", "message": message})
        else:
            for message in _flatten(detail):
                problems.append({"node_key": "", "field": name, "code": "invalid", "message": message})
    return problems


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [f"{k}: {m}" if k != "non_field_errors" else m for k, v in detail.items() for m in _flatten(v)]
    if isinstance(detail, list):
        return [m for item in detail for m in _flatten(item)]
    return [str(detail)] if str(detail) else []


def _urls(workflow: Workflow | None) -> dict[str, str]:
    if workflow is None:
        return {"save": reverse("dashboard:workflow-new")}
    return {
        "save": reverse("dashboard:workflow", args=[workflow.pk]),
        "activate": reverse("dashboard:workflow-activate", args=[workflow.pk]),
        "deactivate": reverse("dashboard:workflow-deactivate", args=[workflow.pk]),
        "page": reverse("dashboard:workflow", args=[workflow.pk]),
    }


def _editor_context(request: HttpRequest, workflow: Workflow | None) -> dict[str, Any]:
    nodes = [node_to_dict(n) for n in workflow.nodes.all()] if workflow else []
    connections = DataSourceConnection.objects.filter(organization=request.organization).order_by("name")
    editor = {
        "workflow": {
            "id": str(workflow.pk) if workflow else None,
            "name": workflow.name if workflow else "",
            "description": workflow.description if workflow else "",
            "status": workflow.status if workflow else "draft",
            "nodes": nodes,
        },
        "apps": [app.as_dict() for app in registry.all_apps()],
        "connections": [
            {"id": str(c.pk), "name": c.name, "provider": c.provider, "active": c.status == ConnectionStatus.ACTIVE}
            for c in connections
        ],
        "templates": _template_choices(request),
        "sample": _trigger_sample(workflow),
        "urls": _urls(workflow),
        "canWrite": can_write(request),
        "text": _editor_text(),
    }
    versions = workflow.versions.select_related("created_by").order_by("-number")[:20] if workflow else []
    labels = {
        (a.slug, op.name): op.label for a in registry.all_apps() for op in [*a.triggers.values(), *a.actions.values()]
    }
    steps = [{**n, "title": n["label"] or labels.get((n["app"], n["operation"]), n["operation"])} for n in nodes]
    return {"workflow": workflow, "editor": editor, "versions": versions, "steps": steps}


def _template_choices(request: HttpRequest) -> list[dict[str, Any]]:
    """The organization's templates for the render steps' picker, each with the input names it (and its clauses)
    read."""
    templates = list(
        Template.objects.filter(organization=request.organization)
        .order_by("name", "-created_at")
        .only("pk", "name", "kind", "version", "variables")
    )
    from_clauses = selectors.clause_variable_names(
        organization_id=request.organization.pk, template_ids=[t.pk for t in templates]
    )
    choices = []
    for t in templates:
        own = [str(v["name"]) for v in t.variables or [] if isinstance(v, dict) and v.get("name")]
        extra = [name for name in from_clauses.get(str(t.pk), []) if name not in own]
        choices.append(
            {"id": str(t.pk), "name": t.name, "kind": t.kind, "version": t.version, "variables": own + extra}
        )
    return choices


def _trigger_sample(workflow: Workflow | None) -> dict:
    """The newest run's trigger data: the variable picker offers its fields as `trigger.*`."""
    if workflow is None:
        return {}
    run = WorkflowExecution.objects.filter(organization_id=workflow.organization_id, workflow=workflow).first()
    data = run.trigger_data if run is not None and isinstance(run.trigger_data, dict) else {}
    # Field names only (values may be personal data); two levels are enough to pick from.
    return {
        str(k): ({str(kk): None for kk in list(v)[:50]} if isinstance(v, dict) else None)
        for k, v in list(data.items())[:100]
    }


def _editor_text() -> dict[str, str]:
    """The editor script's words, translated here so the script holds no language."""
    return {
        "addStep": _("Add a step"),
        "addTrigger": _("Choose what starts this workflow"),
        "chooseTrigger": _("What starts this workflow?"),
        "chooseAction": _("What should happen next?"),
        "cancel": _("Cancel"),
        "moveUp": _("Move up"),
        "moveDown": _("Move down"),
        "remove": _("Remove"),
        "edit": _("Edit"),
        "trigger": _("Trigger"),
        "step": _("Step"),
        "label": _("Name shown in the graph"),
        "key": _("Step key"),
        "keyHelp": _("Letters, numbers, - and _. Later steps use it: steps.<key>."),
        "connection": _("Connection"),
        "noConnection": _("No connection of this kind yet: add one under Connections."),
        "chooseConnection": _("Choose a connection"),
        "next": _("Then go to"),
        "nextDefault": _("The next step in the list"),
        "end": _("End of the workflow"),
        "branches": _("Branches"),
        "branchWhen": _("If this is true"),
        "branchNext": _("go to"),
        "addBranch": _("Add a branch"),
        "removeBranch": _("Remove this branch"),
        "otherwise": _("Otherwise go to"),
        "otherwiseShort": _("otherwise"),
        "ifShort": _("if"),
        "settings": _("Settings"),
        "noSettings": _("This step has no settings."),
        "jsonHelp": _("JSON. Values may contain {{ expressions }}."),
        "invalidJson": _("This is not valid JSON."),
        "linesHelp": _("One per line."),
        "addRow": _("Add a value"),
        "removeRow": _("Remove"),
        "rowName": _("Name"),
        "rowValue": _("Value"),
        "yes": _("Yes"),
        "insertValue": _("Insert a value"),
        "insertHelp": _("Click a field above, then a value to insert it there."),
        "pickFieldFirst": _("Click the field you want to fill first."),
        "inserted": _("Inserted %(value)s."),
        "triggerData": _("From the trigger"),
        "triggerAll": _("Everything the trigger received"),
        "otherField": _("Another trigger field"),
        "insert": _("Insert"),
        "fromStep": _("From step “%(step)s”"),
        "stepAll": _("The whole result"),
        "nothingEarlier": _("Values appear here once the workflow has a trigger."),
        "selectStep": _("Select a step in the graph to change its settings."),
        "unsaved": _("Unsaved changes"),
        "saved": _("All changes saved"),
        "saving": _("Saving…"),
        "activating": _("Activating…"),
        "fixProblems": _("Please fix the problems marked below."),
        "networkError": _("Could not reach docg. Check your connection and try again."),
        "leave": _("You have unsaved changes."),
        "required": _("required"),
        "removed": _("Step removed. Save to keep this change."),
        "added": _("Step added."),
        "moved": _("Step moved."),
        "empty": _("This workflow has no steps yet."),
        "chooseTemplate": _("Choose a template"),
        "noTemplate": _("No template of this kind yet: upload one under Templates."),
        "templateGone": _("This template no longer exists: choose another."),
        "templateUses": _("This template uses:"),
        "templateNoVariables": _("This template has no fields to fill."),
        "fillTemplateFields": _("Fill in the template's fields"),
        "templateFieldsHelp": _("Adds each field the template uses, taken from the trigger's data of the same name."),
    }
