"""DOCX rendering: docxtpl driven by docg's sandboxed expression environment.

docxtpl's default is a plain `jinja2.Environment`, which lets a template reach
Python internals (`{{ ''.__class__.__mro__ }}`); uploaded templates are
untrusted, so we always hand it the sandboxed environment from
docg.workflows.expressions (same filters: date, currency, number), overlaid with
XML autoescaping because values land inside WordprocessingML.

What a template can use: `{{ customer.name }}`, filters
(`{{ due|date('dd/MM/yyyy', 'pt-br') }}`, `{{ total|currency('BRL') }}`),
`{%tr for item in items %}` … `{%tr endfor %}` table-row loops, `{%p if … %}`
paragraph conditionals, `{{ image(src, width_mm) }}`, `{{ link(url, text) }}`;
body, headers, footers and footnotes are all rendered.
"""

import hashlib
import io
import logging
import re
import threading
import zipfile
from collections import OrderedDict
from functools import lru_cache
from typing import Any

from jinja2 import Template as JinjaTemplate

from docg.documents.rendering.errors import classify, render_error, template_line
from docg.documents.rendering.media import DocxHelpers
from docg.workflows.expressions import environment

logger = logging.getLogger(__name__)
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


class _DocxEnvironment:
    """What docxtpl calls `jinja_env`: compiles parts with the sandbox, XML-escaped.

    docxtpl recompiles every part on every render; a template version's parts are
    the same each time, so compiled templates are kept (bounded LRU, keyed by a
    digest of the patched XML). Core properties (title, author) are plain text, not
    XML, and are compiled without XML escaping.
    """

    autoescape = True

    def __init__(self, size: int = 64):
        self._xml = environment().overlay(autoescape=True)
        self._text = environment()
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


def patched_lines(xml: str) -> list[str]:
    """The part as docxtpl hands it to Jinja: tags joined across runs, one paragraph per line."""
    from docxtpl import DocxTemplate

    return re.sub(r"<w:p([ >])", r"\n<w:p\1", DocxTemplate.patch_xml(None, xml)).split("\n")


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
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(io.BytesIO(template))
    try:
        tpl.init_docx()
    except Exception as exc:  # python-docx raises several types for a broken package
        raise render_error("template.unreadable", f"not a readable Word document ({type(exc).__name__})") from exc
    helpers = DocxHelpers(tpl, organization_id=organization_id)
    try:
        tpl.render({**helpers.names(), **context}, jinja_env=jinja_env or docx_environment(), autoescape=False)
        out = io.BytesIO()
        tpl.save(out)
    except UnrecognizedImageError as exc:
        raise render_error("template.image_unavailable", "the file is not an image docg can place") from exc
    except RecursionError as exc:
        raise render_error("template.render_failed", "the template nests too deeply") from exc
    except Exception as exc:  # classified: security, missing data, syntax, filters, XML
        raise classify(exc, location=_location(tpl, exc)) from exc
    return out.getvalue()


def docx_parts(template: bytes) -> list[tuple[str, str]]:
    """(label, xml) of each part that holds template text: body, headers, footers, footnotes."""
    found = []
    with zipfile.ZipFile(io.BytesIO(template)) as package:
        for name in package.namelist():
            match = re.fullmatch(r"word/(document|header\d*|footer\d*|footnotes)\.xml", name)
            if match:
                found.append((part_label(name), package.read(name).decode("utf-8")))
    order = {"body": 0}
    return sorted(found, key=lambda item: (order.get(item[0], 1), item[0]))
