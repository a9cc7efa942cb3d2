"""Images and hyperlinks a DOCX template can place: `{{ image(src, width_mm) }}`, `{{ link(url, text) }}`.

An image source is one of:
- an http(s) URL, fetched through docg.common.ssrf.guarded_request (private and
  loopback addresses refused unless an operator allows them), at most
  MAX_IMAGE_BYTES;
- a stored document of the same organization: "document:<uuid>" (or the bare id);
- a data URI ("data:image/png;base64,…").
At most MAX_IMAGES distinct sources per document; the same source is loaded once.

A picture placed in the template (body, header or footer) whose alt text is
`image:<data path>` (for example `image:company.logo`) is replaced by the image at
that path in the data, keeping the template's frame, position and size (docxtpl's
`replace_pic`); the new image is converted to the placeholder's format if needed.
"""

import base64
import binascii
import io
import re
import uuid
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import httpx
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.shared import Mm
from lxml import etree

from docg.common.errors import DocgError
from docg.common.ssrf import BlockedAddress, guarded_request
from docg.documents.rendering.clauses import include
from docg.documents.rendering.errors import render_error
from docg.documents.rendering.text import clean_text

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGES = 50
FETCH_TIMEOUT = 10.0
_DATA_URI = re.compile(r"^data:image/[\w.+-]+;base64,(?P<data>.*)$", re.DOTALL)
_LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:")
_ALT_TEXT = re.compile(r"^\s*image:\s*([A-Za-z_]\w*(?:\.\w+)*)\s*$")
_PIC = "http://schemas.openxmlformats.org/drawingml/2006/picture"
_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/bmp": "BMP", "image/tiff": "TIFF"}


def _unavailable(src: str, why: str) -> DocgError:
    shown = src if len(src) <= 120 else src[:117] + "..."
    if shown.startswith("data:"):
        shown = "data URI"
    return render_error("template.image_unavailable", f"{shown}: {why}", source=shown)


def _fetch(url: str) -> bytes:
    try:
        response = guarded_request("GET", url, timeout=FETCH_TIMEOUT)
    except BlockedAddress as exc:
        raise _unavailable(url, str(exc))
    except httpx.HTTPError as exc:
        error = _unavailable(url, f"{type(exc).__name__}: {exc}")
        error.transient = True
        raise error
    if response.status_code != 200:
        error = _unavailable(url, f"HTTP {response.status_code}")
        error.transient = response.status_code >= 500 or response.status_code == 429
        raise error
    if len(response.content) > MAX_IMAGE_BYTES:
        raise _unavailable(url, f"larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    return response.content


def _stored(src: str, organization_id: Any) -> bytes:
    from docg.documents.models import GeneratedDocument

    raw = src.split(":", 1)[1] if src.startswith("document:") else src
    try:
        pk = uuid.UUID(raw)
    except ValueError:
        raise _unavailable(src, "not a document id")
    document = GeneratedDocument.objects.filter(pk=pk, organization_id=organization_id).first()
    if document is None or not document.content_type.startswith("image/"):
        raise _unavailable(src, "no such image in this organization")
    if document.size_bytes > MAX_IMAGE_BYTES:
        raise _unavailable(src, f"larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    with document.file.open("rb") as handle:
        return handle.read(MAX_IMAGE_BYTES + 1)


def load_image(src: Any, *, organization_id: Any) -> bytes:
    """The bytes of an image source (see the module docstring); DocgError when it cannot be had."""
    if not isinstance(src, str) or not src.strip():
        raise _unavailable(str(src), "empty image source")
    src = src.strip()
    match = _DATA_URI.match(src)
    if match:
        try:
            data = base64.b64decode(match.group("data"), validate=True)
        except (binascii.Error, ValueError):
            raise _unavailable(src, "invalid base64")
    elif src.startswith(("https://", "http://")):
        data = _fetch(src)
    elif src.startswith("document:") or re.fullmatch(r"[0-9a-fA-F-]{32,36}", src):
        data = _stored(src, organization_id)
    else:
        raise _unavailable(src, "use an https URL, document:<id> or a data: URI")
    if len(data) > MAX_IMAGE_BYTES:
        raise _unavailable(src, f"larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    return data


class _Link:
    """A hyperlink placed in the run that holds the tag (body, header or footer alike).

    Its attributes start with "_": the sandbox hides them, so a template cannot
    reach the DocxTemplate (whose public methods read and write files) through it.
    """

    __slots__ = ("_text", "_tpl", "_url")

    def __init__(self, tpl, url: str, text: str):
        self._tpl, self._url, self._text = tpl, url, text

    def __html__(self) -> str:
        r_id = self._tpl.current_rendering_part.relate_to(self._url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
        return (
            f'</w:t></w:r><w:hyperlink r:id="{r_id}" w:history="1"><w:r><w:rPr><w:rStyle w:val="Hyperlink"/>'
            '<w:color w:val="0563C1"/><w:u w:val="single"/></w:rPr>'
            f'<w:t xml:space="preserve">{escape(self._text)}</w:t></w:r></w:hyperlink>'
            '<w:r><w:t xml:space="preserve">'
        )

    __str__ = __html__


class _Image:
    """docxtpl's InlineImage behind private attributes (its public `tpl` would open the DocxTemplate)."""

    __slots__ = ("_inline",)

    def __init__(self, inline):
        self._inline = inline

    def __html__(self) -> str:
        return self._inline.__html__()

    __str__ = __html__


class DocxHelpers:
    """The functions a DOCX template may call, bound to one render (its DocxTemplate and organization)."""

    def __init__(self, tpl, *, organization_id: Any, render: Callable[..., bytes]):
        # `render`: the DOCX renderer itself, for clauses (a sub-template rendered with the same data).
        self.tpl, self.organization_id, self.render = tpl, organization_id, render
        self._images: dict[str, bytes] = {}
        self.context: dict[str, Any] = {}  # the data, for clauses rendered with it

    def _load(self, src: Any) -> bytes:
        key = str(src)
        if key not in self._images:
            if len(self._images) >= MAX_IMAGES:
                raise _unavailable(key, f"more than {MAX_IMAGES} images in one document")
            self._images[key] = load_image(src, organization_id=self.organization_id)
        return self._images[key]

    def image(self, src: Any, width_mm: float | None = None, height_mm: float | None = None) -> _Image:
        from docxtpl import InlineImage

        key = str(src)
        self._load(src)
        width = Mm(float(width_mm)) if width_mm else None
        height = Mm(float(height_mm)) if height_mm else None
        return _Image(InlineImage(self.tpl, io.BytesIO(self._images[key]), width=width, height=height))

    def link(self, url: Any, text: Any = None) -> _Link:
        url = str(url).strip()
        if not url.lower().startswith(_LINK_SCHEMES):
            raise render_error(
                "template.render_failed", f"links must be http(s), mailto or tel URLs (got {url[:80]!r})"
            )
        return _Link(self.tpl, url, clean_text(str(text) if text is not None else url))

    def include(self, reference: Any) -> Any:
        return include(self.tpl, reference, self.context, organization_id=self.organization_id, render=self.render)

    def names(self) -> dict[str, Any]:
        return {"image": self.image, "link": self.link, "include": self.include}

    def replace_placeholder_pictures(self, context: dict[str, Any]) -> None:
        """Queue, for docxtpl's save, each picture whose alt text is `image:<path>` (see the module docstring)."""
        from docx.opc.constants import RELATIONSHIP_TYPE as RT

        main = self.tpl.docx.part
        parts = [main] + [r.target_part for r in main.rels.values() if r.reltype in (RT.HEADER, RT.FOOTER)]
        for part in parts:
            root = part.element if hasattr(part, "element") else etree.fromstring(part.blob)
            for picture in root.iter(f"{{{_PIC}}}pic"):
                properties = picture.find(f"{{{_PIC}}}nvPicPr/{{{_PIC}}}cNvPr")
                blip = picture.find(f"{{{_PIC}}}blipFill/{{{_A}}}blip")
                if properties is None or blip is None:
                    continue
                frame = next(picture.iterancestors(f"{{{_WP}}}inline", f"{{{_WP}}}anchor"), None)
                frame_properties = frame.find(f"{{{_WP}}}docPr") if frame is not None else None
                frame_alt = frame_properties.get("descr") or "" if frame_properties is not None else ""
                if _ALT_TEXT.match(frame_alt) and not _ALT_TEXT.match(properties.get("descr") or ""):
                    # Word keeps the alt text on the frame (wp:docPr); docxtpl matches the picture's own.
                    properties.set("descr", frame_alt)
                for attribute in ("descr", "title"):
                    alt = properties.get(attribute) or ""
                    match = _ALT_TEXT.match(alt)
                    if match:
                        rel = part.rels.get(blip.get(f"{{{_R}}}embed") or "")
                        target = rel.target_part.content_type if rel is not None else "image/png"
                        data = _as_format(self._load(_lookup(context, match.group(1))), target, match.group(1))
                        self.tpl.replace_pic(alt, io.BytesIO(data))
                        break


def _lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for name in path.split("."):
        if isinstance(value, dict) and name in value:
            value = value[name]
        elif isinstance(value, list) and name.isdigit() and int(name) < len(value):
            value = value[int(name)]
        else:
            raise render_error(
                "data.unresolved_variables", path, missing=[path], location={"text": f"image:{path}"[:120]}
            )
    return value


def _as_format(data: bytes, content_type: str, path: str) -> bytes:
    """`data` in the placeholder picture's format: its part keeps its name and content type."""
    from PIL import Image, UnidentifiedImageError

    wanted = _PIL_FORMATS.get(content_type.lower())
    try:
        with Image.open(io.BytesIO(data)) as image:
            if wanted is None or image.format == wanted:
                return data
            converted = image.convert("RGB") if wanted == "JPEG" else image.copy()
    except (UnidentifiedImageError, OSError) as exc:
        raise _unavailable(f"image:{path}", "the file is not an image docg can place") from exc
    out = io.BytesIO()
    converted.save(out, format=wanted)
    return out.getvalue()
