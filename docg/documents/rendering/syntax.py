"""The template syntax reference: every tag, filter and function docg templates can use.

One entry per construct, each with an English and a pt-BR example (template text,
data, what the document shows). The dashboard and the docs render this table;
tests render every example that fits in one paragraph, so the reference cannot
drift from what the renderers do.
"""

import json
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from docg.common.errors import language_code


@dataclass(frozen=True)
class Example:
    template: str
    data: dict[str, Any]
    result: str  # what the paragraph reads once rendered ("" when it is not plain text)


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # tag | filter | function | marker | picture
    formats: tuple[str, ...]
    summary: Any
    en: Example
    pt_br: Example


_BOTH = ("docx", "pptx", "xlsx")  # every format docg renders itself (named before XLSX came)
_DOCX = ("docx",)

REFERENCE: tuple[Entry, ...] = (
    Entry(
        "{{ … }}",
        "tag",
        _BOTH,
        _("Prints a value from the data; dotted names reach inside objects. Text is always escaped."),
        Example("Dear {{ customer.name }},", {"customer": {"name": "Ann & Co"}}, "Dear Ann & Co,"),
        Example("Prezado {{ cliente.nome }},", {"cliente": {"nome": "Pão & Cia"}}, "Prezado Pão & Cia,"),
    ),
    Entry(
        "{% if %}",
        "tag",
        _BOTH,
        _("Shows text only when a condition holds; {% elif %} and {% else %} as in Jinja."),
        Example("{% if vip %}Priority support{% else %}Standard{% endif %}", {"vip": True}, "Priority support"),
        Example("{% if vip %}Suporte prioritário{% else %}Padrão{% endif %}", {"vip": False}, "Padrão"),
    ),
    Entry(
        "{% for %}",
        "tag",
        _BOTH,
        _("Repeats text for each item of a list; loop.index counts from 1."),
        Example("{% for i in items %}{{ loop.index }}.{{ i }} {% endfor %}", {"items": ["a", "b"]}, "1.a 2.b"),
        Example("{% for i in itens %}{{ i }}; {% endfor %}", {"itens": ["x", "y"]}, "x; y;"),
    ),
    Entry(
        "{%tr for %} … {%tr endfor %}",
        "marker",
        _BOTH,
        _(
            "In a table (or a spreadsheet): the rows between the two marker rows repeat once per item; the "
            "marker rows go, and in a spreadsheet the rows below move down with their formulas."
        ),
        Example("{%tr for item in items %}", {"items": []}, ""),
        Example("{%tr for item in itens %}", {"itens": []}, ""),
    ),
    Entry(
        "{%p if %} … {%p endif %}",
        "marker",
        _DOCX,
        _("A condition over whole paragraphs; each marker sits alone in its paragraph, which is removed."),
        Example("{%p if vip %}", {"vip": True}, ""),
        Example("{%p if vip %}", {"vip": True}, ""),
    ),
    Entry(
        "{% slide for %}",
        "marker",
        ("pptx",),
        _("In a slide's notes (or text): the slide is copied once per item; an empty list removes it."),
        Example("{% slide for product in products %}", {"products": []}, ""),
        Example("{% slide for produto in produtos %}", {"produtos": []}, ""),
    ),
    Entry(
        "date",
        "filter",
        _BOTH,
        _("Formats a date (ISO text or date) with a pattern or short/medium/long, in a locale."),
        Example("Due {{ due|date('MMMM d, yyyy', 'en') }}", {"due": "2026-11-24"}, "Due November 24, 2026"),
        Example("Vence em {{ due|date('dd/MM/yyyy', 'pt-br') }}", {"due": "2026-11-24"}, "Vence em 24/11/2026"),
    ),
    Entry(
        "currency",
        "filter",
        _BOTH,
        _("Formats an amount in a currency; BRL defaults to the Brazilian format."),
        Example("Total {{ total|currency('USD', 'en') }}", {"total": "1234.5"}, "Total $1,234.50"),
        Example("Total {{ total|currency('BRL') }}", {"total": "1234.5"}, "Total R$ 1.234,50"),
    ),
    Entry(
        "number",
        "filter",
        _BOTH,
        _("Formats a number in a locale, optionally with a fixed number of decimals."),
        Example("{{ n|number('en', 2) }}", {"n": 1234.5}, "1,234.50"),
        Example("{{ n|number('pt-br', 2) }}", {"n": 1234.5}, "1.234,50"),
    ),
    Entry(
        "default",
        "filter",
        _BOTH,
        _("A value for data that may be missing; preflight does not ask for it."),
        Example("{{ city|default('New York') }}", {}, "New York"),
        Example("{{ cidade|default('São Paulo') }}", {}, "São Paulo"),
    ),
    Entry(
        "rich",
        "filter",
        _DOCX,
        _(
            "Rich text from data (a safe subset of Markdown or HTML): bold, italic, underline, links, line "
            "breaks, lists and headings. With {{p … }} it writes real paragraphs; anything else is text."
        ),
        Example("{{ note|rich }}", {"note": "Pay **now**"}, "Pay now"),
        Example("{{ nota|rich }}", {"nota": "Pague *hoje*"}, "Pague hoje"),
    ),
    Entry(
        "image(src, width_mm, height_mm)",
        "function",
        _DOCX,
        _("Places an image from an https URL, a document id of the organization or a data: URL (5 MB at most)."),
        Example("{{ image(logo, 30) }}", {}, ""),
        Example("{{ image(assinatura, 25) }}", {}, ""),
    ),
    Entry(
        "image:<path> (alt text)",
        "picture",
        _DOCX,
        _("A picture whose alt text is image:<path> is replaced by that image from the data, frame kept."),
        Example("image:company.logo", {}, ""),
        Example("image:empresa.logo", {}, ""),
    ),
    Entry(
        "link(url, text)",
        "function",
        _DOCX,
        _("A hyperlink (http, https, mailto or tel)."),
        Example("{{ link('https://example.com', 'our site') }}", {}, "our site"),
        Example("{{ link('mailto:' ~ email, 'Fale conosco') }}", {"email": "a@b.com"}, "Fale conosco"),
    ),
    Entry(
        "include(name)",
        "function",
        _DOCX,
        _("Inserts another Word template of the organization (a clause), rendered with the same data."),
        Example('{{p include("Confidentiality") }}', {}, ""),
        Example('{{p include("Cláusula de sigilo") }}', {}, ""),
    ),
    Entry(
        "{{r … }} / {{p … }}",
        "marker",
        _DOCX,
        _("Prints a value as its own run (keeping the tag's formatting) or as whole paragraphs."),
        Example("{{r name }}", {"name": "Ann"}, "Ann"),
        Example("{{r nome }}", {"nome": "Ana"}, "Ana"),
    ),
)


# What only spreadsheets have.
REFERENCE += (
    Entry(
        "{{ … }} alone in a cell",
        "tag",
        ("xlsx",),
        _(
            "In a spreadsheet, a cell holding one {{ … }} and nothing else keeps the value's type: a number or a "
            "date stays one, in the template cell's number format, so formulas can use it. Text is never a formula."
        ),
        Example("{{ total }}", {"total": 1234.5}, "1234.5"),
        Example("{{ valor }}", {"valor": 99.9}, "99.9"),
    ),
)


def reference(language: str = "en") -> list[dict[str, Any]]:
    """The reference as plain data, with the example of `language` (pt-BR or English)."""
    pt = language_code(language) == "pt-br"
    rows = []
    for entry in REFERENCE:
        example = entry.pt_br if pt else entry.en
        rows.append(
            {
                "name": entry.name,
                "kind": entry.kind,
                "formats": list(entry.formats),
                "summary": str(entry.summary),
                "example": {"template": example.template, "data": example.data, "result": example.result},
            }
        )
    return rows


_KIND_TITLES = {"tag": "Tags", "marker": "Markers", "filter": "Filters", "function": "Functions", "picture": "Pictures"}
_FORMAT_NAMES = {"docx": "Word", "pptx": "PowerPoint", "xlsx": "Excel"}
DOC_PATH = "docs/TEMPLATE_SYNTAX.md"


def _example_line(label: str, example: Example) -> str:
    line = f"- **{label}:** `{example.template}`"
    if example.data:
        line += f" with `{json.dumps(example.data, ensure_ascii=False)}`"
    if example.result:
        line += f" → {example.result}"
    return line


def markdown() -> str:
    """The reference as the docs' page (docs/TEMPLATE_SYNTAX.md): `manage.py template_syntax` writes it."""
    lines = [
        "# Template syntax",
        "",
        "Every tag, filter and function a docg template can use, each with an English and a Brazilian",
        "Portuguese example. Generated from `docg/documents/rendering/syntax.py` by",
        "`manage.py template_syntax` (a test fails when this page is out of date); the dashboard shows the",
        "same reference at `/templates/syntax/`, in the user's language.",
    ]
    with translation.override("en"):
        for kind, title in _KIND_TITLES.items():
            entries = [entry for entry in REFERENCE if entry.kind == kind]
            if not entries:
                continue
            lines += ["", f"## {title}"]
            for entry in entries:
                formats = ", ".join(_FORMAT_NAMES.get(f, f) for f in entry.formats)
                lines += ["", f"### `{entry.name}`", "", f"*{formats}.* {entry.summary}", ""]
                lines += [_example_line("English", entry.en), _example_line("Português (Brasil)", entry.pt_br)]
    return "\n".join(lines) + "\n"
