"""What `docx.render` / `pptx.render` / `xlsx.render` add to preflight (PRODUCT.md section 5).

- `template.not_found` / `template.wrong_kind` / `template.unreadable`
  (domain template; recommended action: select_template);
- the template's lint errors, with their locations (docg.documents.selectors);
- `data.unresolved_variables` (domain data; map_fields): every input the
  template reads that the run's data does not have, each with its template
  location. Inputs come from the analysis stored at upload
  (docg.documents.placeholders); an input read only under `|default(…)` or
  `is defined` is optional (rendering/variables.py's guard analysis). Templates
  with no stored analysis are analysed here.

Parameters that depend on earlier steps' outputs cannot be known before the
run: those checks are left to the step itself.
"""

from typing import Any

from docg.common.errors import DocgError
from docg.documents.rendering.clause_check import clause_check
from docg.documents.rendering.errors import describe_location, human
from docg.documents.rendering.templates import template_bytes, template_for
from docg.documents.rendering.variables import resolves, template_placeholders
from docg.workflows.expressions import ExpressionError, render_value

_UNKNOWN = object()


def _known(value: Any, trigger_data: dict) -> Any:
    """A parameter's value as far as the trigger data decides it; _UNKNOWN if it needs a run's steps."""
    try:
        return render_value(value, {"trigger": trigger_data})
    except ExpressionError:
        return _UNKNOWN


def _issue(code: str, domain: str, node: dict, language: str, detail: str, tech: dict, **extra: Any) -> dict:
    return {
        "code": code,
        "severity": "blocking",
        "domain": domain,
        "node_key": node.get("key", ""),
        "message_human": human(code, language=language, node=node.get("label") or node.get("key", ""), detail=detail),
        "details_tech": tech,
        **extra,
    }


def _described(error: DocgError) -> str:
    where = describe_location(error.details.get("location"))
    return f"{error.message} ({where})" if where else error.message


def _lint_issues(template: Any, node: dict, language: str) -> list[dict]:
    if not template.lint_errors:
        return []
    from docg.documents.selectors import template_issues

    return template_issues(template, node_key=node.get("key", ""), language=language)


def _required(name: str, required: set[str]) -> bool:
    # `x.upper` (a method call) and `x` are the same input; so are `a.b` and `a.b.c` for this purpose.
    return any(name == r or name.startswith(r + ".") or r.startswith(name + ".") for r in required)


def missing_inputs(kind: str, template: Any, source: bytes, data: dict) -> list[dict[str, Any]]:
    """[{name, location}] for each place the template reads an input `data` lacks."""
    own = template_placeholders(kind, source)  # required reads only (optional ones are left out)
    required = {p.name for p in own}
    stored = {entry["name"] for entry in template.variables or []}
    found = [
        {"name": entry["name"], "location": location}
        for entry in template.variables or []
        if not resolves(data, entry["name"]) and _required(entry["name"], required)
        for location in entry.get("locations") or [{}]
    ]
    # What the upload analysis does not list (all of it for templates without one; placeholder pictures).
    return found + [
        {"name": p.name, "location": p.location()}
        for p in own
        if not resolves(data, p.name) and p.name not in stored and not (stored and _required(p.name, stored))
    ]


def render_preflight(kind: str):
    def hook(*, node: dict, organization: Any, trigger_data: dict, language: str) -> list[dict]:
        params = node.get("parameters") or {}
        template_id = _known(params.get("template_id", ""), trigger_data)
        if template_id is _UNKNOWN:
            return []
        try:
            template = template_for(organization=organization, template_id=template_id, kind=kind)
            source = template_bytes(template)
        except DocgError as exc:
            return [_issue(exc.code, "template", node, language, exc.message, {"detail": exc.message, **exc.details})]
        issues = _lint_issues(template, node, language)
        data = _known(params["data"], trigger_data) if "data" in params else trigger_data
        if data is _UNKNOWN or not isinstance(data, dict):
            return issues  # the data comes from earlier steps: the step checks it when it runs
        try:
            missing = missing_inputs(kind, template, source, data)
        except DocgError as exc:
            if issues:
                return issues  # the same problem, already reported by the lint stored at upload
            tech = {"template_id": str(template.pk), "detail": exc.message}
            issue = _issue(exc.code, "template", node, language, _described(exc), tech)
            return [{**issue, "location": {**exc.details.get("location", {}), "template_id": str(template.pk)}}]
        except Exception as exc:  # a template lint could not read is reported by lint, not crashed on here
            tech = {"template_id": str(template.pk), "error": f"{type(exc).__name__}: {exc}"[:500]}
            return [*issues, _issue("template.unreadable", "template", node, language, type(exc).__name__, tech)]
        if kind == "docx":
            clause_errors, clause_missing = clause_check(organization_id=organization.pk, source=source, data=data)
            missing += clause_missing
            for error in clause_errors:
                tech = {"template_id": str(template.pk), "detail": error.message}
                issue = _issue(error.code, "template", node, language, _described(error), tech)
                issues.append(
                    {**issue, "location": {**error.details.get("location", {}), "template_id": str(template.pk)}}
                )
        if not missing:
            return issues
        names = sorted({m["name"] for m in missing})
        location = {"node_key": node.get("key", ""), "template_id": str(template.pk), "placeholders": missing}
        tech = {"template_id": str(template.pk), "version": template.version, "missing": missing}
        detail = ", ".join(names)
        issue = _issue("data.unresolved_variables", "data", node, language, detail, tech, missing=names)
        return [*issues, {**issue, "location": location}]

    return hook
