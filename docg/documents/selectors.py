from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from docg.common.errors import translated
from docg.documents.lint import describe_location
from docg.documents.models import Template, TemplateVersion

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
    """The template's input names (each with its locations) and every tag found in its current version."""
    version = template_current_version(template=template)
    return {"variables": template.variables or [], "placeholders": version.placeholders if version else []}


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
