"""Template lint: each kind of mistake is found, with the location a person can go and fix."""

import io

import pytest

from docg.documents import lint, placeholders
from docg.documents.models import Template
from docg.documents.selectors import template_issues
from docg.documents.tests import corpus


def _lint(content: bytes, kind: str = "docx") -> list[dict]:
    return lint.lint(placeholders.analyse(io.BytesIO(content), kind))


def _codes(errors: list[dict]) -> list[str]:
    return [e["code"] for e in errors]


def test_the_corpus_templates_are_clean():
    assert _lint(corpus.contract_docx()) == []
    assert _lint(corpus.deck_pptx(), "pptx") == []


def test_unclosed_variable_tag_is_malformed_with_its_paragraph():
    errors = _lint(corpus.docx_with("Fine {{ ok }}", "Dear {{ customer.name }, welcome"))
    assert _codes(errors) == ["template.malformed_tag"]
    assert errors[0]["location"]["part"] == "body"
    assert errors[0]["location"]["paragraph"] == 1
    assert errors[0]["location"]["text"] == "Dear {{ customer.name }, welcome"
    assert "'}}'" in errors[0]["message"]


def test_block_without_its_closing_marker_is_malformed_in_the_header():
    errors = _lint(corpus.docx_with("body", header="{% if draft  DRAFT"))
    assert _codes(errors) == ["template.malformed_tag"]
    assert errors[0]["location"]["part"] == "header"


def test_tag_opened_before_another_tag_closes_is_malformed():
    errors = _lint(corpus.docx_with("{{ first {{ second }}"))
    assert _codes(errors) == ["template.malformed_tag"]


def test_for_without_endfor_is_unbalanced_at_the_for():
    errors = _lint(corpus.docx_with("Items:", "{% for item in items %}", "{{ item }}"))
    assert _codes(errors) == ["template.unbalanced_block"]
    assert errors[0]["location"]["paragraph"] == 1
    assert errors[0]["tag"] == "{% for item in items %}"
    assert "endfor" in errors[0]["message"]


def test_endif_without_if_is_unbalanced_at_the_endif():
    errors = _lint(corpus.docx_with("text", "{% endif %}"))
    assert _codes(errors) == ["template.unbalanced_block"]
    assert errors[0]["location"]["paragraph"] == 1
    assert "never opened" in errors[0]["message"]


def test_if_left_open_inside_a_loop_is_reported_at_the_if():
    errors = _lint(corpus.docx_with("{% for x in xs %}", "{% if x.ok %}", "{{ x }}", "{% endfor %}"))
    assert _codes(errors) == ["template.unbalanced_block"]
    assert errors[0]["tag"] == "{% if x.ok %}"
    assert errors[0]["location"]["paragraph"] == 1


def test_else_outside_any_block_is_unbalanced():
    assert _codes(_lint(corpus.docx_with("{% else %}"))) == ["template.unbalanced_block"]


def test_row_loop_closed_in_another_part_is_unbalanced_in_both():
    errors = _lint(corpus.docx_with("{%tr for row in rows %}", footer="{%tr endfor %}"))
    assert sorted(e["location"]["part"] for e in errors) == ["body", "footer"]
    assert set(_codes(errors)) == {"template.unbalanced_block"}


def test_unknown_filter_and_test_are_reported_known_ones_are_not():
    errors = _lint(
        corpus.docx_with(
            "{{ total|currency('BRL') }} {{ due|date('short') }} {{ name|upper }}",
            "{{ total|money }}",
            "{% if total is huge %}big{% endif %}",
        )
    )
    assert _codes(errors) == ["template.unknown_filter", "template.unknown_filter"]
    assert errors[0]["location"]["paragraph"] == 1
    assert "'money'" in errors[0]["message"]
    assert "test 'huge'" in errors[1]["message"]


def test_jinja_syntax_error_is_reported_with_the_tag():
    errors = _lint(corpus.docx_with("{{ customer. }}", "{% for in items %}{% endfor %}", "{% frobnicate %}"))
    assert _codes(errors) == ["template.syntax_error"] * 3
    assert [e["location"]["paragraph"] for e in errors] == [0, 1, 2]


def test_errors_only_visible_in_context_are_found():
    errors = _lint(corpus.docx_with("{% if a %}", "{% else %}", "{% else %}", "{% endif %}"))
    assert _codes(errors) == ["template.syntax_error"]
    assert errors[0]["location"]["paragraph"] == 2


def test_pptx_blocks_must_close_on_their_line():
    deck = corpus.deck_pptx()
    from pptx import Presentation

    prs = Presentation(io.BytesIO(deck))
    prs.slides[1].shapes.title.text_frame.text = "{% if show %}Summary"
    prs.slides[2].shapes.title.text_frame.text = "{{ figures.total|nope }}"
    buffer = io.BytesIO()
    prs.save(buffer)
    errors = _lint(buffer.getvalue(), "pptx")
    assert _codes(errors) == ["template.unbalanced_block", "template.unknown_filter"]
    assert [e["location"]["slide"] for e in errors] == [2, 3]


def test_slide_marker_is_a_syntax_error_in_word():
    assert _codes(_lint(corpus.docx_with("{% slide for p in products %}"))) == ["template.syntax_error"]


def test_location_reads_as_a_person_counts():
    location = {"part": "header", "header": 1, "table": 0, "row": 2, "cell": 1, "paragraph": 0, "text": ""}
    assert lint.describe_location(location) == "header 1, table 1, row 3, cell 2, paragraph 1"
    assert lint.describe_location({"part": "slide", "slide": 4, "paragraph": 2}, "pt-br") == "slide 4, parágrafo 3"


def test_template_issues_have_the_preflight_shape():
    errors = _lint(corpus.docx_with("{{ total|money }}"))
    template = Template(name="Contract", kind="docx", version=3, lint_errors=errors)
    [issue] = template_issues(template, node_key="render", language="pt-br")
    assert set(issue) == {"code", "severity", "domain", "node_key", "message_human", "details_tech", "location"}
    assert issue["code"] == "template.unknown_filter"
    assert issue["severity"] == "blocking"
    assert issue["domain"] == "template"
    assert issue["node_key"] == "render"
    assert issue["location"]["paragraph"] == 0
    assert "Contract" in issue["message_human"]
    assert "parágrafo 1" in issue["message_human"]
    assert issue["details_tech"]["version"] == 3


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_a_clean_template_has_no_issues(language):
    assert template_issues(Template(name="Clean", kind="docx", lint_errors=[]), language=language) == []
