"""Clauses outside a render: every `include("…")` of a DOCX template found, resolved and checked.

One walk (`clause_tree`) serves preflight (what the clauses read that a run's data
lacks), the template's variables (what its clauses read) and the upload (clauses
the organization does not have). A missing clause or a cycle is reported with the
location of its `include`, never raised.
"""

import io
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from docg.common.errors import DocgError
from docg.documents.paragraphs import docx_scopes
from docg.documents.rendering.clauses import MAX_DEPTH, clause_template
from docg.documents.rendering.errors import render_error
from docg.documents.rendering.templates import template_bytes
from docg.documents.rendering.variables import docx_placeholders, resolves

_INCLUDE = re.compile(r"""\binclude\(\s*(?P<q>["'])(?P<reference>[^"']{1,200})(?P=q)\s*\)""")


@dataclass(frozen=True)
class Included:
    """A clause the template includes, directly (`chain` empty) or through the clauses named in `chain`."""

    clause: Any  # the clause's Template
    source: bytes
    chain: tuple[str, ...]
    location: dict[str, Any]  # where its include sits (with `clause` when that is in another clause)


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


def clause_tree(
    *, organization_id: Any, source: bytes, chain: tuple[str, ...] = ()
) -> tuple[list[DocgError], list[Included]]:
    """(missing or cyclic clauses, each with its location; every clause included, depth first)."""
    errors: list[DocgError] = []
    found: list[Included] = []
    for reference, location in includes(source):
        if chain:
            location = {**location, "clause": chain[-1]}
        try:
            clause = clause_template(organization_id=organization_id, reference=reference)
        except DocgError as exc:
            exc.details = {**exc.details, "location": location, "reference": reference}
            errors.append(exc)
            continue
        if clause.name in chain or len(chain) >= MAX_DEPTH:
            names = " → ".join([*chain, clause.name])
            errors.append(
                render_error(
                    "template.render_failed",
                    f"a clause includes itself: {names}",
                    location=location,
                    reference=reference,
                )
            )
            continue
        try:
            clause_source = template_bytes(clause)
        except DocgError as exc:  # storage that cannot give the file back now: reported where it is included
            exc.details = {**exc.details, "location": location, "reference": reference}
            errors.append(exc)
            continue
        found.append(Included(clause, clause_source, chain, location))
        inner_errors, inner_found = clause_tree(
            organization_id=organization_id, source=clause_source, chain=(*chain, clause.name)
        )
        errors += inner_errors
        found += inner_found
    return errors, found


def clause_check(
    *, organization_id: Any, source: bytes, data: dict[str, Any]
) -> tuple[list[DocgError], list[dict[str, Any]]]:
    """Before a run: (missing or cyclic clauses, each with its location; inputs the clauses read that `data` lacks)."""
    errors, found = clause_tree(organization_id=organization_id, source=source)
    missing: list[dict[str, Any]] = []
    for included in found:
        name = included.clause.name
        try:
            reads = docx_placeholders(included.source)
        except DocgError as exc:
            exc.details = {**exc.details, "location": {**exc.details.get("location", {}), "clause": name}}
            errors.append(exc)
            continue
        for placeholder in reads:
            if not resolves(data, placeholder.name):
                where = {"clause": name, "part": placeholder.part, "paragraph": placeholder.paragraph}
                missing.append({"name": placeholder.name, "location": {**where, "text": placeholder.text}})
    return errors, missing


def _lint_entry(error: DocgError) -> dict[str, Any]:
    reference = error.details.get("reference")
    if error.code == "template.not_found":
        code = "template.clause_not_found"
        message = _(
            "This organization has no Word template named “%(name)s”: upload the clause under that name, "
            "or correct the include."
        ) % {"name": reference}
    elif error.code == "template.render_failed" and reference is not None:
        code, message = "template.clause_cycle", error.message
    else:
        code, message = error.code, error.message
    tag = f'include("{reference}")' if reference is not None else ""
    return {"code": code, "message": message, "location": error.details.get("location", {}), "tag": tag}


def clause_lint(errors: list[DocgError]) -> list[dict[str, Any]]:
    """The walk's problems in lint's shape: {code, message, location, tag}, in the active language."""
    return [_lint_entry(error) for error in errors]


def clause_variables(*, organization_id: Any, source: bytes) -> dict[str, list[dict[str, Any]]]:
    """What the template's clauses read and where, the clauses themselves, and what could not be followed.

    `variables`: [{name, locations}] as the template's own (from each clause's upload analysis), each
    location with the `clause` it is in; `clauses`: [{id, name, included_from, location}];
    `errors`: missing clauses and cycles in lint's shape.
    """
    errors, found = clause_tree(organization_id=organization_id, source=source)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for included in found:
        for entry in included.clause.variables or []:
            locations = by_name.setdefault(entry["name"], [])
            for location in entry.get("locations") or []:
                place = {**location, "clause": included.clause.name}
                if place not in locations:
                    locations.append(place)
    clauses = [
        {
            "id": str(included.clause.pk),
            "name": included.clause.name,
            "included_from": list(included.chain),
            "location": included.location,
        }
        for included in found
    ]
    variables = [{"name": name, "locations": by_name[name]} for name in sorted(by_name)]
    return {"variables": variables, "clauses": clauses, "errors": clause_lint(errors)}
