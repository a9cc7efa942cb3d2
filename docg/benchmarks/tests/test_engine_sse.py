"""The benchmark commands run end to end on small inputs (figures go in notes, never in assertions)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_engine_benchmark_reports_throughput_overhead_and_queries():
    out = StringIO()
    call_command("benchmark", "engine", "--executions", "4", "--steps", "2", "--workers", "2",
                 "--calibration-runs", "1", stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "4/4 terminal (completed 4)" in text
    assert "executions/s" in text
    assert "queries per step" in text


def test_sse_benchmark_delivers_every_event_to_every_client():
    out = StringIO()
    call_command("benchmark", "sse", "--clients", "5", "--events", "4", "--rate", "0", stdout=out)
    text = out.getvalue()
    assert "delivered: 20 of 20" in text
    assert "publish→receive latency ms" in text


def test_bad_benchmark_arguments_are_refused():
    with pytest.raises(CommandError):
        call_command("benchmark", "sse", "--clients", "0")
