"""One template or expression cannot build a string or list big enough to take a worker's memory."""

import resource

import pytest

from docg.workflows.expressions import ExpressionError, render_string
from docg.workflows.sandbox_bounds import MAX_TEXT_CHARS

AMPLIFIERS = [
    "{{ 'a'.ljust(10**8) }}",
    "{{ 'a'.rjust(10**8) }}",
    "{{ 'a'.center(10**8) }}",
    "{{ 'a'.zfill(10**8) }}",
    "{{ 'a'|center(10**8) }}",
    "{{ '{:>100000000}'.format(1) }}",
    "{{ '{:>{w}}'.format(1, w=10**8) }}",
    "{{ '{0:.100000000f}'.format(1.5) }}",
    "{{ '%100000000s' % 1 }}",
    "{{ '%*s' % (10**8, 1) }}",
    "{{ '%100000000s'|format(1) }}",
    "{{ ('\t' * 10000).expandtabs(100000) }}",
    "{{ ('x' * 100000).replace('x', 'y' * 1000) }}",
    "{{ ('x' * 100000)|replace('x', 'y' * 1000) }}",
    "{{ ','.join(['x' * 100000] * 100000) }}",
    "{{ (['x' * 100000] * 100000)|join(',') }}",
    "{{ ('a\n' * 50000)|indent(1000) }}",
    "{{ ('x' * 90000)|wordwrap(1, wrapstring='y' * 1000) }}",
    "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
    "{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}",
]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("source", AMPLIFIERS)
def test_amplifiers_fail_with_a_clear_message_without_allocating(source):
    before = _peak_mib()
    with pytest.raises(ExpressionError) as caught:
        render_string(source, {})
    assert "Not allowed in an expression" in str(caught.value)
    assert "limit" in str(caught.value)
    # The probe's calls built 100 MB strings; bounded, none grows the process by more than a few MB.
    assert _peak_mib() - before < 60


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ 'Olá %s' % name }}", "Olá Ana"),
        ("{{ '{:>6}'.format(name) }}", "   Ana"),
        ("{{ name.ljust(5, '.') }}", "Ana.."),
        ("{{ name|center(7) }}", "  Ana  "),
        ("{{ ['a', 'b']|join(', ') }}", "a, b"),
        ("{{ name ~ '!' }}", "Ana!"),
        ("{{ 'a-b'.replace('-', '+') }}", "a+b"),
    ],
)
def test_ordinary_formatting_still_works(source, expected):
    assert render_string(source, {"name": "Ana"}) == expected


def test_a_value_up_to_the_limit_is_allowed():
    assert len(render_string("{{ 'a'.ljust(n) }}", {"n": MAX_TEXT_CHARS})) == MAX_TEXT_CHARS
