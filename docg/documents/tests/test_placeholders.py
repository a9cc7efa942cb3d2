"""Placeholder detection: every tag, what it reads and where it sits, in Word and PowerPoint templates."""

import io

import pytest

from docg.documents import placeholders
from docg.documents.tests import corpus


def _found(content: bytes, kind: str) -> list[dict]:
    return placeholders.placeholders(placeholders.analyse(io.BytesIO(content), kind))


def _by_tag(found: list[dict]) -> dict[str, dict]:
    return {p["tag"]: p for p in found}


def _variables(content: bytes, kind: str) -> dict[str, list[dict]]:
    return {v["name"]: v["locations"] for v in placeholders.variables(_found(content, kind))}


@pytest.fixture(scope="module")
def contract() -> list[dict]:
    return _found(corpus.contract_docx(), "docx")


def test_contract_inputs_are_the_data_names_and_not_loop_variables(contract):
    names = {v["name"] for v in placeholders.variables(contract)}
    assert names == {
        "contract.number",
        "contract.date",
        "company.name",
        "customer.name",
        "customer.vip",
        "customer.discount",
        "items",
        "total",
        "notes.internal",
    }


def test_tag_split_across_runs_is_found_whole_with_its_paragraph(contract):
    tag = _by_tag(contract)["{{ customer.name }}"]
    assert tag["kind"] == "variable"
    assert tag["names"] == ["customer.name"]
    assert tag["location"] == {
        "part": "body",
        "paragraph": 1,
        "text": "Between ACME Ltd and {{ customer.name }}, hereafter the Customer.",
    }


def test_header_and_footer_fields_have_their_part(contract):
    tags = _by_tag(contract)
    assert tags["{{ contract.number }}"]["location"] == {
        "part": "header",
        "header": 1,
        "paragraph": 0,
        "text": "Contract {{ contract.number }}",
    }
    footer = tags["{{ contract.date|date('short', 'pt-br') }}"]
    assert footer["names"] == ["contract.date"]
    assert footer["location"]["part"] == "footer"
    assert footer["location"]["footer"] == 1


def test_row_loop_reads_the_list_and_its_cells_read_nothing_from_outside(contract):
    tags = _by_tag(contract)
    loop = tags["{%tr for item in items %}"]
    assert loop["kind"] == "block"
    assert loop["names"] == ["items"]
    assert loop["location"] == {
        "part": "body",
        "table": 0,
        "row": 1,
        "cell": 0,
        "paragraph": 0,
        "text": "{%tr for item in items %}",
    }
    price = tags["{{ item.price|currency('BRL') }}"]
    assert price["names"] == []
    assert price["location"]["table"] == 0
    assert (price["location"]["row"], price["location"]["cell"]) == (2, 1)
    assert tags["{{ loop.index }}"]["names"] == []
    assert tags["{%tr endfor %}"]["names"] == []


def test_conditional_clause_reads_its_condition(contract):
    tags = _by_tag(contract)
    assert tags["{%p if customer.vip %}"]["names"] == ["customer.vip"]
    assert tags["{%p if customer.vip %}"]["location"]["paragraph"] == 2
    assert tags["{{ customer.discount }}"]["location"]["paragraph"] == 3


def test_nested_table_cell_is_located_inside_its_outer_cell(contract):
    location = _by_tag(contract)["{{ notes.internal }}"]["location"]
    assert location["part"] == "body"
    assert (location["table"], location["row"], location["cell"]) == (1, 0, 1)
    assert location["nested"] == [{"table": 0, "row": 1, "cell": 0}]


def test_a_name_read_in_several_places_lists_each_location():
    content = corpus.docx_with("Dear {{ client }}", "Bye {{ client }}", footer="{{ client }}")
    locations = _variables(content, "docx")["client"]
    assert [(loc["part"], loc["paragraph"]) for loc in locations] == [("body", 0), ("body", 1), ("footer", 0)]


def test_typographic_quotes_from_autocorrect_are_read_as_quotes():
    found = _found(corpus.docx_with("{{ total|currency(\u201cBRL\u201d) }}"), "docx")
    assert found[0]["names"] == ["total"]


def test_set_names_and_helpers_are_not_inputs():
    content = corpus.docx_with(
        "{% set greeting = 'Hello ' ~ customer.first_name %}{{ greeting }}",
        "{{ image(logo_url, 40) }} {{ range(3)|list }}",
    )
    assert set(_variables(content, "docx")) == {"customer.first_name", "logo_url"}


def test_a_loop_variable_outside_its_loop_is_an_input():
    content = corpus.docx_with("{% for item in items %}{{ item }}{% endfor %}", "{{ item.name }}")
    assert set(_variables(content, "docx")) == {"items", "item.name"}


def test_text_around_a_tag_is_at_most_120_characters():
    long = "x" * 300 + " {{ deep.value }} " + "y" * 300
    location = _found(corpus.docx_with(long), "docx")[0]["location"]
    assert len(location["text"]) <= 120
    assert "{{ deep.value }}" in location["text"]


@pytest.fixture(scope="module")
def deck() -> list[dict]:
    return _found(corpus.deck_pptx(), "pptx")


def test_deck_inputs_skip_the_repeated_slide_item(deck):
    names = {v["name"] for v in placeholders.variables(deck)}
    assert names == {
        "deck.title",
        "customer.name",
        "figures.revenue",
        "figures.margin",
        "presenter.name",
        "products",
    }


def test_slide_numbers_shapes_and_split_runs(deck):
    tags = _by_tag(deck)
    assert tags["{{ deck.title }}"]["location"]["slide"] == 1
    revenue = tags["{{ figures.revenue|number }}"]
    assert revenue["names"] == ["figures.revenue"]
    assert revenue["location"] == {
        "part": "slide",
        "slide": 2,
        "shape": "Summary box",
        "paragraph": 0,
        "text": "Revenue grew to {{ figures.revenue|number }} this quarter",
    }


def test_slide_table_cell_and_notes_are_located(deck):
    tags = _by_tag(deck)
    margin = tags["{{ figures.margin }}"]["location"]
    assert margin["part"] == "slide"
    assert (margin["slide"], margin["table"], margin["row"], margin["cell"]) == (3, 0, 2, 1)
    notes = tags["{{ presenter.name }}"]["location"]
    assert notes == {
        "part": "notes",
        "slide": 4,
        "paragraph": 0,
        "text": "Remind {{ presenter.name }} to call the customer.",
    }


def test_repeated_slide_marker_reads_its_list(deck):
    tags = _by_tag(deck)
    marker = tags["{% slide for product in products %}"]
    assert marker["names"] == ["products"]
    assert marker["location"]["part"] == "notes"
    assert marker["location"]["slide"] == 5
    assert tags["{{ product.name }}"]["names"] == []
