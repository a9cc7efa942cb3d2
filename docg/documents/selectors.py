from typing import Any

from django.db.models import QuerySet

from docg.documents.lint import describe_location
from docg.documents.models import Template, TemplateVersion

_HUMAN = {
    "template.malformed_tag": ("a tag is not closed", "uma marcação não foi fechada"),
    "template.unbalanced_block": ("a block is not closed or not opened", "um bloco não foi aberto ou fechado"),
    "template.unknown_filter": ("it uses a filter docg does not have", "ela usa um filtro que o docg não tem"),
    "template.syntax_error": ("a tag cannot be read", "uma marcação não pode ser lida"),
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
    pt = (language or "").lower().startswith("pt")
    issues = []
    for error in template.lint_errors or []:
        location = error.get("location") or {}
        what = _HUMAN.get(error["code"], ("it has an error", "ele tem um erro"))[1 if pt else 0]
        where = describe_location(location, language)
        tag = error.get("tag", "")
        message = (
            f"O modelo '{template.name}' não pode ser usado: {what} ({where}: {tag})."
            if pt
            else f"Template '{template.name}' cannot be used: {what} ({where}: {tag})."
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
