"""docxtpl's `{{r x }}` and `{{p x }}` markers, made safe for any value.

docxtpl removes the run (`r`) or the paragraph (`p`) holding such a tag and prints
the value in its place, so the value must itself be a run or a paragraph: a plain
string ended up as text directly inside `<w:p>` or `<w:body>`, which LibreOffice
drops and Word "repairs". Before docxtpl's clean-up, each marker's expression is
wrapped in a filter that turns what it prints into runs or paragraphs, with the
run and paragraph properties of the tag the template author formatted: a string is
escaped into one run; an image or link goes inside a run; rich text
(richtext.py) writes its own runs and paragraphs.

The properties travel to the filter as a digest of template XML, never as XML:
a template (or data) naming a digest can only reach properties some template holds.
"""

import hashlib
import re
import threading
from collections import OrderedDict
from typing import Any

from markupsafe import escape

from docg.documents.rendering.text import clean_text

# docxtpl's first two clean-up steps (DocxTemplate.patch_xml): a tag split over runs is joined.
_SPLIT_OPENER = re.compile(r"(?<={)(<[^>]*>)+(?=[\{%\#])|(?<=[%\}\#])(<[^>]*>)+(?=\})", re.DOTALL)
_TAG_BODY = re.compile(r"{%(?:(?!%}).)*|{#(?:(?!#}).)*|{{(?:(?!}}).)*", re.DOTALL)
_RUN_BREAK = re.compile(r"</w:t>.*?(<w:t>|<w:t [^>]*>)", re.DOTALL)
_MARKER = re.compile(r"\{\{([rp]) ([^}%]*)\}\}")
# A `{{r`/`{{p` opener, even split over runs: the cheap test before joining tags (most parts have none).
_MAYBE_MARKER = re.compile(r"\{(?:<[^>]*>)*\{(?:<[^>]*>)*[rp](?:<[^>]*>)*\s")
# `{{ note|rich }}` in the middle of a paragraph: its runs take the tag's run properties too.
_INLINE_RICH = re.compile(r"\{\{(?![rp] )([^}%]*?\|\s*rich)\s*\}\}")
_MARKED_PARAGRAPH = re.compile(
    r"<w:p[ >](?:(?!<w:p[ >]).)*(?:\{\{[rp] [^}%]*\}\}|\{\{[^}%]*\|\s*rich\s*\}\}).*?</w:p>", re.DOTALL
)
_PPR = re.compile(r"<w:pPr(?: [^>]*)?>.*?</w:pPr>|<w:pPr/>", re.DOTALL)
_RPR = re.compile(r"<w:rPr(?: [^>]*)?>.*?</w:rPr>|<w:rPr/>", re.DOTALL)
_RUN_START = re.compile(r"<w:r[ >]")

_properties: OrderedDict[str, str] = OrderedDict()
_lock = threading.Lock()
_MAX_PROPERTIES = 4096


def _remember(xml: str) -> str:
    key = hashlib.blake2b(xml.encode(), digest_size=8).hexdigest()
    with _lock:
        _properties[key] = xml
        _properties.move_to_end(key)
        while len(_properties) > _MAX_PROPERTIES:
            _properties.popitem(last=False)
    return key


def properties(key: Any) -> str:
    with _lock:
        return _properties.get(str(key), "")


class WordML:
    """XML docg wrote itself (escaped text, template properties): printed as is, never escaped again.

    Its one attribute starts with "_", so the sandbox keeps templates from reading or changing it.
    """

    __slots__ = ("_xml",)

    def __init__(self, xml: str):
        self._xml = xml

    def __html__(self) -> str:
        return self._xml

    __str__ = __html__


def _join_split_tags(xml: str) -> str:
    xml = _SPLIT_OPENER.sub("", xml)
    return _TAG_BODY.sub(lambda m: _RUN_BREAK.sub("", m.group(0)), xml)


def _rewrite_paragraph(match: re.Match) -> str:
    paragraph = match.group(0)
    ppr = _PPR.search(paragraph)
    ppr_key = _remember(ppr.group(0) if ppr else "")

    def run_properties(position: int) -> str:
        before = paragraph[:position]
        runs = list(_RUN_START.finditer(before))
        rpr = _RPR.search(before, runs[-1].start()) if runs else None
        return _remember(rpr.group(0) if rpr else "")

    def rewrite(marker: re.Match) -> str:
        rpr_key = run_properties(marker.start())
        kind, expression = marker.group(1), marker.group(2).strip()
        name = "_docg_paragraph" if kind == "p" else "_docg_run"
        return "{{" + f"{kind} ({expression})|{name}('{ppr_key}', '{rpr_key}') " + "}}"

    def rewrite_inline(tag: re.Match) -> str:
        return "{{ (" + tag.group(1).strip() + f")|_docg_inline('{run_properties(tag.start())}') " + "}}"

    return _INLINE_RICH.sub(rewrite_inline, _MARKER.sub(rewrite, paragraph))


def wrap_markers(xml: str) -> str:
    """The part with each `{{r … }}` / `{{p … }}` passed through the run / paragraph filter."""
    if "rich" not in xml and not _MAYBE_MARKER.search(xml):
        return xml
    joined = _join_split_tags(xml)
    if not _MARKER.search(joined) and not _INLINE_RICH.search(joined):
        return xml  # nothing to do: docxtpl joins the tags itself
    return _MARKED_PARAGRAPH.sub(_rewrite_paragraph, joined)


def _inline(value: Any) -> str:
    """What goes inside a <w:t>: docg's own markup as is, anything else as escaped text."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return str(escape(clean_text(str(value))))


def as_runs(value: Any, ppr_key: Any = "", rpr_key: Any = "") -> WordML:
    """The filter behind `{{r x }}`: runs."""
    rpr = properties(rpr_key)
    runs = getattr(value, "docx_runs", None)
    if runs is not None:
        return WordML(runs(rpr))
    return WordML(f'<w:r>{rpr}<w:t xml:space="preserve">{_inline(value)}</w:t></w:r>')


def as_paragraphs(value: Any, ppr_key: Any = "", rpr_key: Any = "") -> WordML:
    """The filter behind `{{p x }}`: paragraphs with the template paragraph's properties."""
    ppr, rpr = properties(ppr_key), properties(rpr_key)
    paragraphs = getattr(value, "docx_paragraphs", None)
    if paragraphs is not None:
        return WordML(paragraphs(ppr, rpr))
    return WordML(f'<w:p>{ppr}<w:r>{rpr}<w:t xml:space="preserve">{_inline(value)}</w:t></w:r></w:p>')


def as_inline(value: Any, rpr_key: Any = "") -> WordML:
    """The filter behind `{{ x|rich }}` inside a run: close the run, write the runs, reopen it as it was."""
    rpr = properties(rpr_key)
    runs = getattr(value, "docx_runs", None)
    if runs is None:
        return WordML(_inline(value))
    return WordML(f'</w:t></w:r>{runs(rpr)}<w:r>{rpr}<w:t xml:space="preserve">')


FILTERS = {"_docg_run": as_runs, "_docg_paragraph": as_paragraphs, "_docg_inline": as_inline}
