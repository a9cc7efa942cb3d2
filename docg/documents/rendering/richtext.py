"""Rich text from data: `{{p clause|rich }}` writes real paragraphs, `{{ note|rich }}` runs in place.

The value is a small, safe subset of Markdown or HTML (HTML when it holds one of
the tags below, Markdown otherwise):

- bold (`**x**`, `<b>`, `<strong>`), italic (`*x*`, `_x_`, `<i>`, `<em>`),
  underline (`++x++`, `<u>`), links (`[text](https://…)`, `<a href>`; http(s),
  mailto and tel only), line breaks (a single newline, `<br>`);
- paragraphs (a blank line, `<p>`), headings (`#`…`###`, `<h1>`…`<h3>`),
  bullet (`- x`, `<ul><li>`) and numbered (`1. x`, `<ol><li>`) lists.

Everything else is text: an unknown HTML tag is printed as written, never
interpreted, and no XML ever comes from data (every character goes through
escaping into `<w:t>`). Headings, lists and links use the template's own styles
("Heading 1", "List Bullet", "List Number", "Hyperlink") when it has them, and
direct formatting when it does not. In `{{p … }}` plain paragraphs keep the
template paragraph's properties and the tag's run formatting; in `{{ … }}` and
`{{r … }}` the text stays in the paragraph (blocks become lines).
"""

import re
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from xml.sax.saxutils import escape

from docg.documents.rendering.errors import render_error
from docg.documents.rendering.text import clean_text

MAX_RICH_CHARS = 200_000
_MAX_DEPTH = 12
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:")
_HTML_HINT = re.compile(r"<\s*/?\s*(?:p|br|b|strong|i|em|u|a|ul|ol|li|h[1-6])\b[^>]*>", re.IGNORECASE)
# Every span is bounded (and kept on one line): an unclosed marker must not make each later
# position scan the rest of the text (quadratic on hostile input).
_INLINE = re.compile(
    r"\\(?P<escaped>[\\*_+\[\]()#-])"
    r"|\[(?P<label>[^\]\n]{1,500})\]\((?P<href>[^)\s]{1,2000})\)"
    r"|\*\*(?P<bold>[^\n]{1,2000}?)\*\*|__(?P<bold2>[^\n]{1,2000}?)__"
    r"|\+\+(?P<under>[^\n]{1,2000}?)\+\+"
    r"|\*(?P<ital>[^*\s](?:[^\n]{0,2000}?[^*\s])?)\*"
    r"|(?<![\w])_(?P<ital2>[^_\s](?:[^\n]{0,2000}?[^_\s])?)_(?![\w])",
)
_BLOCK = re.compile(r"^(?:(?P<heading>#{1,6})\s+|(?P<bullet>[-*+])\s+|(?P<number>\d{1,9})[.)]\s+)")
_HEADING_SIZES = {1: 32, 2: 28, 3: 24}
_state = threading.local()


@dataclass(frozen=True)
class Inline:
    text: str
    bold: bool = False
    italic: bool = False
    underline: bool = False
    href: str = ""


@dataclass
class Block:
    kind: str  # paragraph | heading | bullet | number
    level: int = 0
    number: int = 0
    inlines: list[Inline] = field(default_factory=list)


# --- parsing ------------------------------------------------------------------------------------


def _safe_href(href: str) -> str:
    href = href.strip()
    return href if href.lower().startswith(_LINK_SCHEMES) else ""


def _markdown_inline(text: str, style: Inline, depth: int = 0) -> list[Inline]:
    out: list[Inline] = []
    position = 0
    while depth < _MAX_DEPTH and (match := _INLINE.search(text, position)):
        if match.start() > position:
            out.append(Inline(text[position : match.start()], style.bold, style.italic, style.underline, style.href))
        groups = match.groupdict()
        if groups["escaped"] is not None:
            out.append(Inline(groups["escaped"], style.bold, style.italic, style.underline, style.href))
        elif groups["label"] is not None:
            href = _safe_href(groups["href"])
            inner = Inline("", style.bold, style.italic, style.underline, href or style.href)
            out += _markdown_inline(groups["label"], inner, depth + 1) if href else [Inline(match.group(0))]
        else:
            bold = groups["bold"] if groups["bold"] is not None else groups["bold2"]
            italic = groups["ital"] if groups["ital"] is not None else groups["ital2"]
            if bold is not None:
                inner, content = Inline("", True, style.italic, style.underline, style.href), bold
            elif italic is not None:
                inner, content = Inline("", style.bold, True, style.underline, style.href), italic
            else:
                inner, content = Inline("", style.bold, style.italic, True, style.href), groups["under"]
            out += _markdown_inline(content, inner, depth + 1)
        position = match.end()
    if position < len(text):
        out.append(Inline(text[position:], style.bold, style.italic, style.underline, style.href))
    return out


def _markdown(text: str) -> list[Block]:
    blocks: list[Block] = []
    current: Block | None = None
    lines: list[str] = []

    def close() -> None:
        nonlocal current, lines
        if current is not None:
            current.inlines = _markdown_inline("\n".join(lines), Inline(""))
            blocks.append(current)
        current, lines = None, []

    for line in text.split("\n"):
        if not line.strip():
            close()
            continue
        match = _BLOCK.match(line)
        if match:
            close()
            if match.group("heading"):
                current = Block("heading", level=min(len(match.group("heading")), 3))
            elif match.group("bullet"):
                current = Block("bullet")
            else:
                current = Block("number", number=int(match.group("number")))
            lines = [line[match.end() :]]
            continue
        if current is None:
            current = Block("paragraph")
        lines.append(line)  # a single newline inside a block is a line break
    close()
    return blocks


class _Html(HTMLParser):
    """The allowed tags become blocks and styles; any other tag is kept as the text it was written as."""

    _STYLES = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.styles: dict[str, int] = {"bold": 0, "italic": 0, "underline": 0}
        self.links: list[str] = []
        self.lists: list[list[Any]] = []  # [kind, counter]
        self.current: Block | None = None

    def _block(self) -> Block:
        if self.current is None:
            self.current = Block("paragraph")
            self.blocks.append(self.current)
        return self.current

    def _text(self, text: str) -> None:
        if not text:
            return
        if self.current is None and not text.strip():
            return  # whitespace between blocks
        href = self.links[-1] if self.links else ""
        style = self.styles
        self._block().inlines.append(Inline(text, style["bold"] > 0, style["italic"] > 0, style["underline"] > 0, href))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._STYLES:
            self.styles[self._STYLES[tag]] += 1
        elif tag == "a":
            self.links.append(_safe_href(dict(attrs).get("href") or ""))
        elif tag == "br":
            self._text("\n")
        elif tag == "p":
            self.current = None
        elif re.fullmatch(r"h[1-6]", tag):
            self.current = Block("heading", level=min(int(tag[1]), 3))
            self.blocks.append(self.current)
        elif tag in ("ul", "ol"):
            self.lists.append([tag, 0])
            self.current = None
        elif tag == "li":
            kind, number = ("bullet", 0)
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                kind, number = "number", self.lists[-1][1]
            self.current = Block(kind, level=max(len(self.lists) - 1, 0), number=number)
            self.blocks.append(self.current)
        else:
            self._text(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._STYLES:
            self.styles[self._STYLES[tag]] = max(self.styles[self._STYLES[tag]] - 1, 0)
        elif tag == "a":
            if self.links:
                self.links.pop()
        elif tag in ("p", "li") or re.fullmatch(r"h[1-6]", tag):
            self.current = None
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.current = None
        elif tag != "br":
            self._text(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self._text(re.sub(r"\s*\n\s*", " ", data))

    def handle_comment(self, data: str) -> None:
        self._text(f"<!--{data}-->")


def parse(text: str) -> list[Block]:
    """The blocks of a rich value (see the module docstring)."""
    if _HTML_HINT.search(text):
        parser = _Html()
        parser.feed(text)
        parser.close()
        return [b for b in parser.blocks if b.inlines or b.kind != "paragraph"]
    return _markdown(text)


# --- writing WordprocessingML -------------------------------------------------------------------


@dataclass
class _Styles:
    ids: dict[str, str]

    def get(self, name: str) -> str:
        return self.ids.get(name.lower(), "")


def _styles() -> _Styles:
    tpl = getattr(_state, "tpl", None)
    cached = getattr(_state, "styles", None)
    if cached is not None:
        return cached
    ids: dict[str, str] = {}
    if tpl is not None:
        for style in tpl.docx.styles:
            if style.name and style.style_id:
                ids.setdefault(style.name.lower(), style.style_id)
    _state.styles = _Styles(ids)
    return _state.styles


def _restarted_numbering(style_name: str) -> str:
    """A new numbering instance of the style's list, starting at 1 (a second numbered list must not go on at 4)."""
    tpl = getattr(_state, "tpl", None)
    try:
        style = tpl.docx.styles[style_name]
        num_pr = style.element.pPr.numPr
        numbering = tpl.docx.part.numbering_part.element
        abstract = numbering.num_having_numId(num_pr.numId.val).abstractNumId.val
    except (AttributeError, KeyError, NotImplementedError):  # no numbering for this style: the style alone
        return ""
    num = numbering.add_num(abstract)
    num.add_lvlOverride(ilvl=0).add_startOverride(1)
    return str(num.numId)


def _relate(url: str) -> str:
    from docx.opc.constants import RELATIONSHIP_TYPE

    tpl = getattr(_state, "tpl", None)
    part = getattr(tpl, "current_rendering_part", None) if tpl is not None else None
    if part is None:
        return ""
    return part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)


def _rpr(base: str, inline: Inline, *, size: int = 0) -> str:
    """Run properties: the template's, plus bold/italic/underline/link styling, in schema order."""
    from docx.enum.text import WD_UNDERLINE
    from docx.oxml import parse_xml

    if not (inline.bold or inline.italic or inline.underline or inline.href or size):
        return base
    from lxml import etree

    try:
        rpr = parse_xml((base or "<w:rPr/>").replace("<w:rPr", f'<w:rPr xmlns:w="{_W_NS}"', 1))
    except etree.XMLSyntaxError:  # properties in a namespace of a newer Word (w14:…): start from none
        rpr = parse_xml(f'<w:rPr xmlns:w="{_W_NS}"/>')
    if inline.bold:
        rpr.get_or_add_b()
    if inline.italic:
        rpr.get_or_add_i()
    if inline.href:
        style = _styles().get("Hyperlink")
        if style:
            rpr.style = style
        else:
            rpr.get_or_add_color().set(f"{{{_W_NS}}}val", "0563C1")
    if inline.underline or (inline.href and not _styles().get("Hyperlink")):
        rpr.u_val = WD_UNDERLINE.SINGLE
    if size:
        rpr.sz_val = size * 6350  # half-points → EMU, as python-docx's Length expects
    return re.sub(r' xmlns:w="[^"]*"', "", etree.tostring(rpr, encoding="unicode"))


def _runs(inlines: list[Inline], base: str = "", *, size: int = 0) -> str:
    out = []
    link, pending = "", []

    def flush() -> None:
        nonlocal pending
        if pending and link:
            r_id = _relate(link)
            joined = "".join(pending)
            out.append(f'<w:hyperlink r:id="{r_id}" w:history="1">{joined}</w:hyperlink>' if r_id else joined)
        else:
            out.extend(pending)
        pending = []

    for inline in inlines:
        if inline.href != link:
            flush()
            link = inline.href
        rpr = _rpr(base, inline, size=size)
        for i, line in enumerate(inline.text.split("\n")):
            if i:
                pending.append(f"<w:r>{rpr}<w:br/></w:r>")
            for j, piece in enumerate(line.split("\t")):
                if j:
                    pending.append(f"<w:r>{rpr}<w:tab/></w:r>")
                if piece:
                    pending.append(f'<w:r>{rpr}<w:t xml:space="preserve">{escape(piece)}</w:t></w:r>')
    flush()
    return "".join(out)


def _prefix(block: Block) -> str:
    if block.kind == "bullet":
        return "• "
    if block.kind == "number":
        return f"{block.number}. "
    return ""


class RichText:
    """A parsed rich value; writes itself as runs or paragraphs where the template puts it.

    Attributes start with "_": the sandbox keeps templates out of them.
    """

    __slots__ = ("_blocks",)

    def __init__(self, blocks: list[Block]):
        self._blocks = blocks

    def _inline_runs(self, base: str) -> str:
        parts = []
        for i, block in enumerate(self._blocks):
            if i:
                parts.append(f"<w:r>{base}<w:br/></w:r>")
            prefix = _prefix(block)
            inlines = ([Inline(prefix)] if prefix else []) + block.inlines
            if block.kind == "heading":
                inlines = [Inline(x.text, True, x.italic, x.underline, x.href) for x in inlines]
            parts.append(_runs(inlines, base))
        return "".join(parts)

    def docx_runs(self, rpr: str = "") -> str:
        return self._inline_runs(rpr)

    def docx_paragraphs(self, ppr: str = "", rpr: str = "") -> str:
        styles = _styles()
        out = []
        numbering, previous = "", ""
        for block in self._blocks:
            if block.kind == "number" and block.level == 0 and previous != "number":
                numbering = _restarted_numbering("List Number") if styles.get("List Number") else ""
            previous = block.kind if block.level == 0 else previous
            inlines, base, size = block.inlines, rpr, 0
            if block.kind == "heading":
                style = styles.get(f"Heading {block.level}")
                paragraph_props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
                base = ""
                if not style:
                    inlines = [Inline(x.text, True, x.italic, x.underline, x.href) for x in inlines]
                    size = _HEADING_SIZES.get(block.level, 24)
            elif block.kind in ("bullet", "number"):
                style = styles.get("List Bullet" if block.kind == "bullet" else "List Number")
                indent = 720 * (block.level + 1)
                if style:
                    restart = ""
                    if block.kind == "number" and numbering:
                        restart = f'<w:numPr><w:ilvl w:val="0"/><w:numId w:val="{numbering}"/></w:numPr>'
                    paragraph_props = f'<w:pPr><w:pStyle w:val="{style}"/>{restart}<w:ind w:left="{indent}"/></w:pPr>'
                else:
                    paragraph_props = f'<w:pPr><w:ind w:left="{indent}" w:hanging="360"/></w:pPr>'
                    inlines = [Inline(_prefix(block)), *inlines]
            else:
                paragraph_props = ppr
            out.append(f"<w:p>{paragraph_props}{_runs(inlines, base, size=size)}</w:p>")
        return "".join(out) or f"<w:p>{ppr}</w:p>"

    def __html__(self) -> str:
        # Inside a <w:t> of the template: close it, write the runs, open an empty one again.
        return f'</w:t></w:r>{self._inline_runs("")}<w:r><w:t xml:space="preserve">'

    __str__ = __html__


def rich(value: Any) -> RichText:
    """The `rich` filter: a data value (Markdown or HTML subset) as rich text."""

    if isinstance(value, RichText):
        return value
    text = "" if value is None else str(value)
    if len(text) > MAX_RICH_CHARS:
        raise render_error("template.render_failed", f"rich text longer than {MAX_RICH_CHARS} characters")
    return RichText(parse(clean_text(text)))


def bind(tpl: Any) -> Any:
    """Rich values render against this DocxTemplate (styles, hyperlinks) in this thread; returns the previous one."""
    previous = getattr(_state, "tpl", None)
    _state.tpl, _state.styles = tpl, None
    return previous
