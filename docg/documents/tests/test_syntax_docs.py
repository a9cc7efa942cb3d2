"""docs/TEMPLATE_SYNTAX.md is the syntax reference the dashboard shows: generated, and kept current."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from docg.documents.rendering.syntax import DOC_PATH, REFERENCE, markdown


def test_the_docs_page_is_current():
    written = (Path(settings.BASE_DIR) / DOC_PATH).read_text(encoding="utf-8")
    assert written == markdown(), f"{DOC_PATH} is out of date: run `manage.py template_syntax`"


def test_the_docs_page_has_both_examples_of_every_entry(capsys):
    call_command("template_syntax", "--print")
    text = capsys.readouterr().out
    for entry in REFERENCE:
        section = text.split(f"### `{entry.name}`", 1)[1].split("\n### ", 1)[0]
        assert f"- **English:** `{entry.en.template}`" in section
        assert f"- **Português (Brasil):** `{entry.pt_br.template}`" in section
