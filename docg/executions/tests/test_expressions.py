"""The expression language of workflow parameters (PRODUCT.md section 3)."""

from datetime import date

import pytest

from docg.workflows.expressions import ExpressionError, evaluate, referenced_paths, render_string, render_value

CONTEXT = {
    "trigger": {
        "customer": {"name": "ana maria", "email": "ana@example.com"},
        "amount": 1234.5,
        "count": 3,
        "paid": True,
        "tags": ["a", "b"],
        "items": [{"sku": "X"}],
        "signed_on": "2024-03-05",
        "sent_at": "2024-03-05T14:30:00Z",
    },
    "steps": {"values": {"total": 10}},
    "org": {"language": "pt-br"},
}


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ().__class__.mro() }}",
        "{{ trigger.__class__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ '{0.__class__}'.format(trigger) }}",
        "text {{ trigger.customer.__class__.__base__ }} text",
        "{{ [].__class__.__base__ }}",
    ],
)
def test_sandbox_refuses_python_internals(source):
    with pytest.raises(ExpressionError, match="Not allowed"):
        render_string(source, CONTEXT)


def test_sandbox_refuses_imports_and_statements():
    with pytest.raises(ExpressionError):
        render_string("{% import 'os' as os %}{{ os }}", CONTEXT)


@pytest.mark.parametrize(
    ("source", "missing"),
    [
        ("{{ trigger.customer.phone }}", ["phone"]),
        ("Dear {{ nobody }}", ["nobody"]),
        ("{{ steps.absent.value }}", ["absent"]),
    ],
)
def test_strict_undefined_raises_and_names_the_missing_variable(source, missing):
    with pytest.raises(ExpressionError) as caught:
        render_string(source, CONTEXT)
    assert caught.value.missing == missing
    assert caught.value.expression.strip() in source


def test_missing_names_raise_in_bare_conditions_too():
    with pytest.raises(ExpressionError):
        evaluate("trigger.nothing > 3", CONTEXT)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ trigger.count }}", 3),
        ("  {{ trigger.amount * 2 }} ", 2469.0),
        ("{{ trigger.paid }}", True),
        ("{{ trigger.tags }}", ["a", "b"]),
        ("{{ trigger.customer }}", {"name": "ana maria", "email": "ana@example.com"}),
        ("{{ none }}", None),
        ("{{ trigger.count > 2 }}", True),
    ],
)
def test_a_single_expression_keeps_its_native_type(source, expected):
    result = render_string(source, CONTEXT)
    assert result == expected
    assert type(result) is type(expected)


def test_text_around_expressions_renders_a_string():
    assert render_string("{{ trigger.count }} of {{ trigger.count }}", CONTEXT) == "3 of 3"
    assert render_string("Count: {{ trigger.count }}", CONTEXT) == "Count: 3"
    assert render_string("no expression", CONTEXT) == "no expression"


def test_render_value_renders_inside_dicts_and_lists():
    value = {"to": ["{{ trigger.customer.email }}"], "n": "{{ trigger.count }}", "fixed": 7}
    assert render_value(value, CONTEXT) == {"to": ["ana@example.com"], "n": 3, "fixed": 7}


def test_data_fields_win_over_dict_methods():
    assert render_string("{{ trigger.items }}", CONTEXT) == [{"sku": "X"}]
    assert render_string("{{ steps.values.total }}", CONTEXT) == 10
    assert render_string("{{ trigger.items[0].sku }}", CONTEXT) == "X"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ trigger.amount | currency }}", "R$\xa01.234,50"),
        ("{{ trigger.amount | currency('BRL') }}", "R$\xa01.234,50"),
        ("{{ trigger.amount | currency('USD') }}", "$1,234.50"),
        ("{{ trigger.amount | currency('usd', 'pt-br') }}", "US$\xa01.234,50"),
        ("{{ '10' | currency('USD') }}", "$10.00"),
    ],
)
def test_currency_filter(source, expected):
    assert render_string(source, CONTEXT) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ trigger.signed_on | date('long', 'pt-br') }}", "5 de março de 2024"),
        ("{{ trigger.signed_on | date('long', 'en') }}", "March 5, 2024"),
        ("{{ trigger.signed_on | date('dd/MM/yyyy', 'pt-br') }}", "05/03/2024"),
        ("{{ trigger.signed_on | date }}", "Mar 5, 2024"),
        ("{{ trigger.sent_at | date('short', 'pt-br') }}", "05/03/2024 14:30"),
    ],
)
def test_date_filter(source, expected):
    assert render_string(source, CONTEXT) == expected


def test_date_filter_accepts_date_objects_and_refuses_non_dates():
    assert render_string("{{ d | date('short', 'en') }}", {"d": date(2024, 12, 31)}) == "12/31/24"
    with pytest.raises(ExpressionError, match="not a date"):
        render_string("{{ 'soon' | date }}", CONTEXT)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ trigger.amount | number }}", "1,234.5"),
        ("{{ trigger.amount | number('pt-br', 2) }}", "1.234,50"),
        ("{{ 1234567 | number('en', 0) }}", "1,234,567"),
    ],
)
def test_number_filter(source, expected):
    assert render_string(source, CONTEXT) == expected


def test_number_filter_refuses_text():
    with pytest.raises(ExpressionError, match="not a number"):
        render_string("{{ 'abc' | number }}", CONTEXT)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ trigger.customer.phone | default('none given') }}", "none given"),
        ("{{ trigger.customer.name | upper }}", "ANA MARIA"),
        ("{{ 'ANA' | lower }}", "ana"),
        ("{{ trigger.customer.name | title }}", "Ana Maria"),
    ],
)
def test_text_filters(source, expected):
    assert render_string(source, CONTEXT) == expected


@pytest.mark.parametrize("source", ["{{ 'x' * 10**9 }}", "{{ [0] * 1000000 }}", "{{ 10 ** 100 ** 100 }}"])
def test_operations_that_would_exhaust_a_worker_are_refused(source):
    with pytest.raises(ExpressionError, match="Not allowed"):
        render_string(source, CONTEXT)


def test_referenced_paths_lists_the_longest_dotted_names():
    source = "{{ trigger.customer.email }} {{ trigger.customer.name | upper }} {{ steps.a['b'] }} {{ trigger.x[i] }}"
    assert referenced_paths(source) == [
        "i",
        "steps.a.b",
        "trigger.customer.email",
        "trigger.customer.name",
        "trigger.x",
    ]
    assert referenced_paths("trigger.amount > 10") == ["trigger.amount"]
