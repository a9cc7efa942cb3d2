"""Clauses before a run: every `include("…")` of a DOCX template found, resolved and checked for what it reads."""

import io
import re
from typing import Any

from docg.common.errors import DocgError
from docg.documents.paragraphs import docx_scopes
from docg.documents.rendering.clauses import MAX_DEPTH, clause_template
from docg.documents.rendering.errors import render_error
from docg.documents.rendering.templates import template_bytes
from docg.documents.rendering.variables import docx_placeholders, resolves

_INCLUDE = re.compile(r"""\binclude\(\s*(?P<q>["'])(?P<reference>[^"']{1,200})(?P=q)\s*\)""")


def includes(source: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(reference, location) of each `include("…")` with a literal reference in a DOCX template."""
    found = []
    for scope in docx_scopes(io.BytesIO(source)):
        for paragraph in scope.paragraphs:
            if "include" in paragraph.text:
                for match in _INCLUDE.finditer(paragraph.text):
                    location = {**paragraph.location, "text": paragraph.text[:120]}
                    found.append((match.group("reference"), location))
    return found


def clause_check(
    *, organization_id: Any, source: bytes, data: dict[str, Any], chain: tuple[str, ...] = ()
) -> tuple[list[DocgError], list[dict[str, Any]]]:
    """Before a run: (missing or cyclic clauses, each with its location; inputs the clauses read that `data` lacks)."""
    errors: list[DocgError] = []
    missing: list[dict[str, Any]] = []
    for reference, location in includes(source):
        try:
            clause = clause_template(organization_id=organization_id, reference=reference)
        except DocgError as exc:
            exc.details = {**exc.details, "location": location}
            errors.append(exc)
            continue
        if clause.name in chain or len(chain) >= MAX_DEPTH:
            names = " → ".join([*chain, clause.name])
            errors.append(
                render_error("template.render_failed", f"a clause includes itself: {names}", location=location)
            )
            continue
        clause_source = template_bytes(clause)
        try:
            reads = docx_placeholders(clause_source)
        except DocgError as exc:
            exc.details = {**exc.details, "location": {**exc.details.get("location", {}), "clause": clause.name}}
            errors.append(exc)
            continue
        for placeholder in reads:
            if not resolves(data, placeholder.name):
                where = {"clause": clause.name, "part": placeholder.part, "paragraph": placeholder.paragraph}
                missing.append({"name": placeholder.name, "location": {**where, "text": placeholder.text}})
        inner_errors, inner_missing = clause_check(
            organization_id=organization_id, source=clause_source, data=data, chain=(*chain, clause.name)
        )
        errors += inner_errors
        missing += inner_missing
    return errors, missing
