"""DOCX rendering: docxtpl driven by docg's sandboxed expression environment.

docxtpl's default is a plain `jinja2.Environment`, which lets a template reach
Python internals (`{{ ''.__class__.__mro__ }}`); uploaded templates are
untrusted, so we always hand it the sandboxed environment from
docg.workflows.expressions (same filters: date, currency, number), overlaid with
XML autoescaping because values land inside WordprocessingML.

What a template can use: `{{ customer.name }}`, filters
(`{{ due|date('dd/MM/yyyy', 'pt-br') }}`, `{{ total|currency('BRL') }}`),
`{%tr for item in items %}` … `{%tr endfor %}` table-row loops, `{%p if … %}`
paragraph conditionals, `{{ image(src, width_mm) }}`, `{{ link(url, text) }}`,
`{{p clause|rich }}` (rich text from data: rendering/richtext.py), `{{r x }}` / `{{p x }}`
for any value (rendering/markers.py); body, headers, footers and footnotes are all rendered.
"""

import hashlib
import html
import io
import logging
import re
import threading
import zipfile
from collections import OrderedDict
from functools import lru_cache
from typing import IO, Any

from jinja2 import Template as JinjaTemplate
from jinja2 import TemplateSyntaxError

from docg.documents.rendering.errors import classify, render_error, template_line
from docg.documents.rendering.markers import FILTERS, wrap_markers
from docg.documents.rendering.media import DocxHelpers
from docg.documents.rendering.richtext import bind, rich
from docg.documents.rendering.text import clean_text
from docg.workflows.expressions import environment

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")
# What docxtpl's own clean-up treats as the inside of a tag (same pattern, same reach).
_IN_TAG = re.compile(r"(?<=\{[\{%])(.*?)(?=[\}%]\})")
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _text(value: Any, *args: Any, **kwargs: Any) -> str:
    return "" if value is None else str(value)


# Filters only DOCX templates have (lint knows them by this table). Jinja's `safe`, `urlize` and
# `xmlattr` mark their result as markup: in a part that is WordprocessingML, that is raw XML from
# data (or HTML Word cannot read). Here they give text, which is escaped like any value.
DOCX_FILTERS = {"rich": rich, "safe": _text, "urlize": _text, "xmlattr": _text}


def _finalize(value: Any) -> Any:
    # Jinja calls this on every `{{ … }}` result before escaping it; Markup is docg's own XML.
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return clean_text(value)
    return value


class _DocxEnvironment:
    """What docxtpl calls `jinja_env`: compiles parts with the sandbox, XML-escaped.

    docxtpl recompiles every part on every render; a template version's parts are
    the same each time, so compiled templates are kept (bounded LRU, keyed by a
    digest of the patched XML). Core properties (title, author) are plain text, not
    XML, and are compiled without XML escaping.
    """

    autoescape = True

    def __init__(self, size: int = 64):
        self._xml = environment().overlay(autoescape=True, finalize=_finalize)
        # An overlay shares its parent's filter dict: copy it before adding docx-only filters.
        self._xml.filters = {**self._xml.filters, **FILTERS, **DOCX_FILTERS}
        self._text = environment().overlay(finalize=_finalize)
        self._cache: OrderedDict[bytes, JinjaTemplate] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def from_string(self, source: str) -> JinjaTemplate:
        if not source.lstrip().startswith("<"):
            return self._text.from_string(source)
        if not self._size:
            return self._xml.from_string(source)
        key = hashlib.blake2b(source.encode(), digest_size=16).digest()
        with self._lock:
            compiled = self._cache.get(key)
            if compiled is not None:
                self._cache.move_to_end(key)
                return compiled
        compiled = self._xml.from_string(source)
        with self._lock:
            self._cache[key] = compiled
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return compiled

    def __getattr__(self, name: str) -> Any:
        return getattr(self._xml, name)


@lru_cache(maxsize=1)
def docx_environment() -> _DocxEnvironment:
    return _DocxEnvironment()


def docx_environment_uncached() -> _DocxEnvironment:
    """An environment that keeps no compiled part, so every render compiles (the benchmark's cold series)."""
    return _DocxEnvironment(size=0)


def part_label(partname: str) -> str:
    """`/word/header1.xml` → `header1`; the body is `body`."""
    name = partname.rsplit("/", 1)[-1].removesuffix(".xml")
    return "body" if name == "document" else name


def paragraph_text(xml_line: str, limit: int = 120) -> str:
    text = _SPACES.sub(" ", _TAGS.sub("", xml_line)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# A part's clean-up depends on its XML alone, and a template version renders the same parts every
# time: about a fifth of a contract's render was these regular expressions. Parts up to
# PATCH_CACHE_MAX_CHARS are kept (32 of them, source and result: tens of MB at the very most).
PATCH_CACHE_MAX_CHARS = 512 * 1024


def patch_xml(xml: str) -> str:
    """A part's XML as Jinja must read it: docxtpl's clean-up, then the XML entities inside tags decoded.

    docxtpl decodes `&lt;`/`&gt;` inside tags but not `&amp;` (nor `&quot;`/`&apos;`, which
    some writers use): `{{ "R&D" }}` reached Jinja as the literal `R&amp;D` and, escaped
    once more on output, printed `R&amp;D`. One pass, so text typed as `&lt;` stays `&lt;`.
    """
    return _patch_cached(xml) if len(xml) <= PATCH_CACHE_MAX_CHARS else _patch(xml)


@lru_cache(maxsize=32)
def _patch_cached(xml: str) -> str:
    return _patch(xml)


def _patch(xml: str) -> str:
    from docxtpl import DocxTemplate

    patched = DocxTemplate.patch_xml(None, wrap_markers(xml))
    return _IN_TAG.sub(lambda m: _ENTITY.sub(_entity, m.group(0)), patched)


def _entity(match: re.Match) -> str:
    name = match.group(1)
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1:2] in "xX" else int(name[1:])
        return chr(code) if 0 < code <= 0x10FFFF else match.group(0)
    return _ENTITIES[name]


def patched_lines(xml: str) -> list[str]:
    """The part as docxtpl hands it to Jinja: tags joined across runs, one paragraph per line."""
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", patch_xml(xml)).split("\n")


@lru_cache(maxsize=1)
def _template_class():
    from docxtpl import DocxTemplate

    class Template(DocxTemplate):
        def patch_xml(self, src_xml: str) -> str:
            return patch_xml(src_xml)

    return Template


def _location(tpl, exc: BaseException) -> dict[str, Any]:
    part = getattr(tpl, "current_rendering_part", None)
    if part is None:
        return {}
    location: dict[str, Any] = {"part": part_label(str(part.partname))}
    line = template_line(exc)
    if not line:
        return location
    # Line 1 is what precedes the first paragraph; line k holds paragraph k - 1.
    location["paragraph"] = max(line - 1, 1)
    try:
        xml = tpl.get_xml() if part is tpl.docx.part else tpl.get_part_xml(part)
        lines = patched_lines(xml)
        location["text"] = paragraph_text(lines[line - 1]) if line <= len(lines) else ""
    except Exception:  # the location is a courtesy; the error itself is what matters
        logger.debug("No paragraph text for the error location", exc_info=True)
    return location


def render_docx(
    template: bytes, context: dict[str, Any], *, organization_id: Any = None, jinja_env: Any = None
) -> bytes:
    """Render a .docx template with `context`; DocgError (with the template location) when it cannot."""
    from docx.image.exceptions import UnrecognizedImageError

    tpl = _template_class()(io.BytesIO(template))
    try:
        tpl.init_docx()
    except Exception as exc:  # python-docx raises several types for a broken package
        raise render_error("template.unreadable", f"not a readable Word document ({type(exc).__name__})") from exc
    helpers = DocxHelpers(tpl, organization_id=organization_id, render=render_docx)
    helpers.context = context
    previous = bind(tpl)
    try:
        helpers.replace_placeholder_pictures(context)
        tpl.render({**helpers.names(), **context}, jinja_env=jinja_env or docx_environment(), autoescape=False)
        out = io.BytesIO()
        tpl.save(out)
    except UnrecognizedImageError as exc:
        raise render_error("template.image_unavailable", "the file is not an image docg can place") from exc
    except RecursionError as exc:
        raise render_error("template.render_failed", "the template nests too deeply") from exc
    except Exception as exc:  # classified: security, missing data, syntax, filters, XML
        raise classify(exc, location=_location(tpl, exc)) from exc
    finally:
        bind(previous)  # a clause renders inside its document's render: give the outer one back
    return out.getvalue()


def _read_parts(template: bytes | IO[bytes]) -> list[tuple[str, str]]:
    """(entry name, xml) of each part docxtpl renders, each through lxml and back as docxtpl reads it.

    Word writes entities (`&quot;`) and declarations the raw bytes would show Jinja but
    the renderer never does; the body is its <w:body> element, as DocxTemplate.get_xml.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    found = []
    with zipfile.ZipFile(io.BytesIO(template) if isinstance(template, bytes) else template) as package:
        for name in package.namelist():
            if re.fullmatch(r"word/(document|header\d*|footer\d*|footnotes)\.xml", name):
                root = etree.fromstring(package.read(name), parser)
                if name == "word/document.xml":
                    root = root.find(f"{{{root.nsmap.get('w', '')}}}body")
                    if root is None:
                        continue
                found.append((name, etree.tostring(root, encoding="unicode")))
    return found


def docx_parts(template: bytes) -> list[tuple[str, str]]:
    """(label, xml) of each part that holds template text: body, headers, footers, footnotes."""
    order = {"body": 0}
    found = [(part_label(name), xml) for name, xml in _read_parts(template)]
    return sorted(found, key=lambda item: (order.get(item[0], 1), item[0]))


def docx_part_errors(template: bytes | IO[bytes]) -> dict[str, tuple[str, str]]:
    """{entry name: (Jinja's message, text of the paragraph it points at)} for each part the renderer cannot parse.

    The same clean-up and environment as render_docx: a template that fails only after
    docxtpl's rewriting (a marker the rewriting cannot take) is found at upload.
    """
    env = docx_environment()
    errors = {}
    for name, xml in _read_parts(template):
        lines = patched_lines(xml)
        try:
            env.parse("\n".join(lines))
        except TemplateSyntaxError as exc:
            line = exc.lineno or 0
            text = paragraph_text(lines[line - 1]) if 0 < line <= len(lines) else ""
            errors[name] = (exc.message or str(exc), html.unescape(text))
    return errors
