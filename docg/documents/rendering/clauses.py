"""The clause library: `{{p include("Confidentiality clause") }}` inserts another template of the organization.

The clause (a DOCX template of the same organization, named by its name or id) is
rendered with the same data and inserted as a sub-document through docxtpl's
Subdoc (docxcompose merges its styles, numbering, images and footnotes), so its
tables and lists are kept. Clauses may include clauses, at most MAX_DEPTH deep;
a clause that includes itself, directly or not, fails the render with the chain.
Put the tag alone in its paragraph with `{{p … }}`; in the middle of a paragraph
the paragraph is split around the clause.
"""

import io
import threading
import uuid
from collections.abc import Callable
from typing import Any

from docg.documents.rendering.errors import render_error
from docg.documents.rendering.templates import template_bytes

MAX_DEPTH = 5
_state = threading.local()


def _chain() -> list[str]:
    if not hasattr(_state, "chain"):
        _state.chain = []
    return _state.chain


def clause_template(*, organization_id: Any, reference: Any) -> Any:
    """The organization's DOCX template named (or with the id) `reference`; DocgError when there is none."""
    from docg.documents.models import Template

    reference = str(reference or "").strip()
    templates = Template.objects.filter(organization_id=organization_id, kind="docx")
    try:
        found = templates.filter(pk=uuid.UUID(reference)).first()
    except ValueError:
        found = templates.filter(name=reference).order_by("-updated_at").first()
    if found is None:
        raise render_error("template.not_found", f"clause “{reference[:80]}”", clause=reference[:80])
    return found


class Clause:
    """A rendered clause's body XML (styles and parts already merged into the document).

    Only a private attribute: the sandbox keeps templates away from the Subdoc and its DocxTemplate.
    """

    __slots__ = ("_xml",)

    def __init__(self, xml: str):
        self._xml = xml

    def docx_paragraphs(self, ppr: str = "", rpr: str = "") -> str:
        return self._xml

    def docx_runs(self, rpr: str = "") -> str:
        # A run position cannot hold paragraphs: close the paragraph around it, open one after.
        return f"</w:p>{self._xml}<w:p>"

    def __html__(self) -> str:
        return f'</w:t></w:r></w:p>{self._xml}<w:p><w:r><w:t xml:space="preserve">'

    __str__ = __html__


def include(
    tpl: Any, reference: Any, context: dict[str, Any], *, organization_id: Any, render: Callable[..., bytes]
) -> Clause:
    """Render the clause `reference` with `context` through `render` (the DOCX renderer) and attach it to `tpl`."""
    if getattr(tpl, "current_rendering_part", None) is not tpl.docx.part:
        # docxcompose attaches a clause's images and styles to the body's part only.
        raise render_error("template.render_failed", "include() works in the body, not in headers, footers or notes")
    template = clause_template(organization_id=organization_id, reference=reference)
    chain = _chain()
    if str(template.pk) in (key for key, _name in chain):
        names = " → ".join([name for _key, name in chain] + [template.name])
        raise render_error("template.render_failed", f"a clause includes itself: {names}", clauses=names)
    if len(chain) >= MAX_DEPTH:
        raise render_error("template.render_failed", f"clauses nest more than {MAX_DEPTH} deep")
    chain.append((str(template.pk), template.name))
    try:
        rendered = render(template_bytes(template), context, organization_id=organization_id)
    finally:
        chain.pop()
    subdoc = tpl.new_subdoc(io.BytesIO(rendered))
    return Clause(subdoc._get_xml())
