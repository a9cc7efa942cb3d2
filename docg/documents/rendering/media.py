"""Images and hyperlinks a DOCX template can place: `{{ image(src, width_mm) }}`, `{{ link(url, text) }}`.

An image source is one of:
- an http(s) URL, fetched through docg.common.ssrf.guarded_request (private and
  loopback addresses refused unless an operator allows them), at most
  MAX_IMAGE_BYTES;
- a stored document of the same organization: "document:<uuid>" (or the bare id);
- a data URI ("data:image/png;base64,…").
At most MAX_IMAGES distinct sources per document; the same source is loaded once.
"""

import base64
import binascii
import io
import re
import uuid
from typing import Any
from xml.sax.saxutils import escape

import httpx
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.shared import Mm

from docg.common.errors import DocgError
from docg.common.ssrf import BlockedAddress, guarded_request
from docg.documents.rendering.errors import render_error

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGES = 50
FETCH_TIMEOUT = 10.0
_DATA_URI = re.compile(r"^data:image/[\w.+-]+;base64,(?P<data>.*)$", re.DOTALL)
_LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:")


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

    def __init__(self, tpl, *, organization_id: Any):
        self.tpl, self.organization_id = tpl, organization_id
        self._images: dict[str, bytes] = {}

    def image(self, src: Any, width_mm: float | None = None, height_mm: float | None = None) -> _Image:
        from docxtpl import InlineImage

        key = str(src)
        if key not in self._images:
            if len(self._images) >= MAX_IMAGES:
                raise _unavailable(key, f"more than {MAX_IMAGES} images in one document")
            self._images[key] = load_image(src, organization_id=self.organization_id)
        width = Mm(float(width_mm)) if width_mm else None
        height = Mm(float(height_mm)) if height_mm else None
        return _Image(InlineImage(self.tpl, io.BytesIO(self._images[key]), width=width, height=height))

    def link(self, url: Any, text: Any = None) -> _Link:
        url = str(url).strip()
        if not url.lower().startswith(_LINK_SCHEMES):
            raise render_error(
                "template.render_failed", f"links must be http(s), mailto or tel URLs (got {url[:80]!r})"
            )
        return _Link(self.tpl, url, str(text) if text is not None else url)

    def names(self) -> dict[str, Any]:
        return {"image": self.image, "link": self.link}
