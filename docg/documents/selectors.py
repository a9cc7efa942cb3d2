from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError, translated
from docg.documents.lint import describe_location
from docg.documents.models import Template, TemplateVersion
from docg.documents.rendering.clause_check import clause_variables
from docg.documents.rendering.templates import template_bytes

_HUMAN = {
    "template.malformed_tag": _("a tag is not closed"),
    "template.unbalanced_block": _("a block is not closed or not opened"),
    "template.unknown_filter": _("it uses a filter docg does not have"),
    "template.syntax_error": _("a tag cannot be read"),
}


def template_versions(*, template: Template) -> QuerySet[TemplateVersion]:
    return TemplateVersion.objects.filter(organization_id=template.organization_id, template=template).select_related(
        "created_by"
    )


def template_current_version(*, template: Template) -> TemplateVersion | None:
    return template_versions(template=template).filter(number=template.version).first()


def template_placeholders(*, template: Template) -> dict[str, Any]:
    """The template's input names (each with its locations, its clauses' included) and every tag of its current
    version; the clauses it includes and the includes that cannot be followed (missing clause, cycle)."""
    version = template_current_version(template=template)
    clauses = template_clauses(template=template)
    return {
        "variables": with_clause_variables(template.variables or [], clauses["variables"]),
        "placeholders": version.placeholders if version else [],
        "clauses": clauses["clauses"],
        "clause_errors": clauses["errors"],
    }


def template_clauses(*, template: Template) -> dict[str, list[dict[str, Any]]]:
    """The clauses a DOCX template includes (recursively), what they read and the includes that cannot be followed.

    Read live, not at upload: clauses are uploaded, renamed and deleted after the templates that include them.
    """
    if template.kind != "docx":
        return {"variables": [], "clauses": [], "errors": []}
    try:
        return clause_variables(organization_id=template.organization_id, source=template_bytes(template))
    except DocgError as exc:  # a file storage cannot give back now: said, not crashed on
        error = {"code": exc.code, "message": exc.message, "location": {}, "tag": ""}
        return {"variables": [], "clauses": [], "errors": [error]}


def clause_variable_names(*, organization_id: Any, template_ids: list[Any]) -> dict[str, list[str]]:
    """{template id: the input names its clauses read} for those of `template_ids` whose current version includes any.

    One query for the current versions' tags; only templates with an include are read (their files are cached).
    """
    versions = TemplateVersion.objects.filter(
        organization_id=organization_id, template_id__in=template_ids, template__kind="docx"
    ).filter(number=F("template__version"))
    with_includes = [
        template_id
        for template_id, found in versions.values_list("template_id", "placeholders")
        if any("include" in str(p.get("tag", "")) for p in found or [] if isinstance(p, dict))
    ]
    names = {}
    for template in Template.objects.filter(organization_id=organization_id, pk__in=with_includes):
        names[str(template.pk)] = [v["name"] for v in template_clauses(template=template)["variables"]]
    return names


def with_clause_variables(own: list[dict[str, Any]], clauses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The template's variables and its clauses' in one list by name; a clause's locations carry `clause`."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for entry in [*own, *clauses]:
        by_name.setdefault(entry["name"], []).extend(entry.get("locations") or [])
    return [{"name": name, "locations": by_name[name]} for name in sorted(by_name)]


def template_issues(template: Template, *, node_key: str = "", language: str = "en") -> list[dict[str, Any]]:
    """The template's lint errors as preflight issues (domain `template`, blocking, with their location)."""
    issues = []
    for error in template.lint_errors or []:
        location = error.get("location") or {}
        what = translated(_HUMAN.get(error["code"], _("it has an error")), language)
        where = describe_location(location, language)
        tag = error.get("tag", "")
        message = translated(
            _("Template '%(name)s' cannot be used: %(what)s (%(where)s: %(tag)s)."),
            language,
            name=template.name,
            what=what,
            where=where,
            tag=tag,
        )
        issues.append(
            {
                "code": error["code"],
                "severity": "blocking",
                "domain": "template",
                "node_key": node_key,
                "message_human": message,
                "details_tech": {
                    "template_id": str(template.pk),
                    "version": template.version,
                    "message": error.get("message", ""),
                    "tag": tag,
                },
                "location": location,
            }
        )
    return issues
