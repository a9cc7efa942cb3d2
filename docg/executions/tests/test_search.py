"""Finding runs: `GET /api/v1/executions/search?q=` and the streamed `GET /api/v1/executions/export.csv`."""

import csv
import io
import tracemalloc

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import StreamingHttpResponse

from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions import search_indexes
from docg.executions.choices import ExecutionStatus
from docg.executions.export import executions_csv
from docg.executions.models import WorkflowExecution
from docg.executions.search import search_conditions
from docg.executions.search_indexes import trigram_indexes_create, trigram_indexes_drop, trigram_indexes_missing
from docg.executions.tests.builders import PREPARE, active_workflow

pytestmark = pytest.mark.django_db
SEARCH = "/api/v1/executions/search"
EXPORT = "/api/v1/executions/export.csv"


def run(cast, workflow, trigger_data: dict, *, status=ExecutionStatus.COMPLETED, organization=None, **fields):
    workflow.refresh_from_db()
    return WorkflowExecution.objects.create(
        organization=organization or cast.acme,
        workflow=workflow,
        workflow_version=workflow.active_version,
        status=status,
        trigger_data=trigger_data,
        **fields,
    )


@pytest.fixture
def runs(cast):
    workflow = active_workflow(cast, PREPARE)
    contract = run(cast, workflow, {"company": {"cnpj": "12.345.678/0001-90", "name": "Padaria São João"}})
    other = run(cast, workflow, {"company": {"cnpj": "98.765.432/0001-10"}}, status=ExecutionStatus.FAILED)
    documented = run(cast, workflow, {"n": 1})
    GeneratedDocument.objects.create(
        organization=cast.acme, execution=documented, name="Contrato Acme 2026.pdf", file="x.pdf", content_type="a/b"
    )
    signed = run(cast, workflow, {"n": 2})
    SignatureRequest.objects.create(
        organization=cast.acme,
        execution=signed,
        provider="clicksign",
        signer_name="Ana",
        signer_email="ana@cliente.com.br",
    )
    globex_flow = active_workflow(cast, PREPARE, organization=cast.globex)
    theirs = run(cast, globex_flow, {"company": {"cnpj": "12.345.678/0001-90"}}, organization=cast.globex)
    return {"contract": contract, "other": other, "documented": documented, "signed": signed, "theirs": theirs}


def found(client, **query) -> list[str]:
    response = client.get(SEARCH, query)
    assert response.status_code == 200, response.json()
    return [r["id"] for r in response.json()["results"]]


def test_search_finds_trigger_values_document_names_and_signer_emails(alice_api, runs):
    assert found(alice_api, q="12.345.678/0001-90") == [str(runs["contract"].pk)]
    assert found(alice_api, q="são joão") == [str(runs["contract"].pk)]
    assert found(alice_api, q="contrato acme") == [str(runs["documented"].pk)]
    assert found(alice_api, q="ANA@CLIENTE") == [str(runs["signed"].pk)]
    assert found(alice_api, q="0001", status="failed") == [str(runs["other"].pk)]
    assert set(found(alice_api, q="0001")) == {str(runs["contract"].pk), str(runs["other"].pk)}
    # LIKE's wildcards are plain characters.
    assert found(alice_api, q="%%%") == []
    assert found(alice_api, q="___") == []


def test_search_needs_three_characters(alice_api, runs):
    for q in ("", "ab", "x" * 201):
        response = alice_api.get(SEARCH, {"q": q})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "search.query_length"


def test_search_never_crosses_organizations(api_client_for_charlie, runs):
    assert found(api_client_for_charlie, q="12.345.678") == [str(runs["theirs"].pk)]


@pytest.fixture
def api_client_for_charlie(cast):
    from tests.fixtures.cast import api_client_for

    return api_client_for(cast.charlie)


def test_the_trigram_indexes_serve_the_search(cast, runs):
    # On a table this small the planner may prefer walking another index (created_at, for the order) and
    # filtering: with plain scans off, the only plan left for the LIKE is a bitmap scan of a trigram index,
    # which exists only if the index can serve the search.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    in_trigger, documents, signatures = search_conditions("0001-90")
    plans = {
        "exec_trigger_trgm_idx": WorkflowExecution.objects.filter(in_trigger).explain(),
        "document_name_trgm_idx": documents.explain(),
        "signature_email_trgm_idx": signatures.explain(),
    }
    for index, plan in plans.items():
        assert index in plan, plan


def read_csv(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_export_streams_the_filtered_runs_as_csv(alice_api, cast, runs):
    response = alice_api.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="runs-')
    rows = read_csv(response)
    assert {r["id"] for r in rows} == {str(runs[k].pk) for k in ("contract", "other", "documented", "signed")}
    assert rows[0]["workflow"] == "flow" and rows[0]["version"] == "1"

    assert [r["id"] for r in read_csv(alice_api.get(EXPORT, {"status": "failed"}))] == [str(runs["other"].pk)]
    assert [r["id"] for r in read_csv(alice_api.get(EXPORT, {"q": "Contrato"}))] == [str(runs["documented"].pk)]
    assert alice_api.get(EXPORT, {"status": "nope"}).status_code == 400


def test_export_defuses_spreadsheet_formulas(alice_api, cast):
    workflow = active_workflow(cast, PREPARE)
    run(cast, workflow, {}, status=ExecutionStatus.FAILED, last_error_human='=HYPERLINK("http://evil")')
    (row,) = read_csv(alice_api.get(EXPORT))
    assert row["error"] == '\'=HYPERLINK("http://evil")'


def test_export_of_many_runs_does_not_hold_them_in_memory(alice_api, cast):
    workflow = active_workflow(cast, PREPARE)
    workflow.refresh_from_db()
    count = 10_000
    WorkflowExecution.objects.bulk_create(
        (
            WorkflowExecution(
                organization=cast.acme,
                workflow=workflow,
                workflow_version=workflow.active_version,
                status=ExecutionStatus.FAILED,
                last_error_human="The provider did not answer in time, after three attempts." * 2,
                trigger_data={"i": i},
            )
            for i in range(count)
        ),
        batch_size=2000,
    )
    tracemalloc.start()
    everything = len("".join(executions_csv(WorkflowExecution.objects.all())).encode())
    _, loaded_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    response = alice_api.get(EXPORT)
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
    _, streamed_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert lines == count + 1
    assert size == everything
    # Streamed, memory holds a chunk of rows, not the file: a small part of what joining it all takes.
    assert streamed_peak < loaded_peak / 3, (streamed_peak, loaded_peak)


def test_without_pg_trgm_the_indexes_are_skipped_with_advice_and_search_still_finds(
    alice_api, runs, caplog, monkeypatch
):
    """A database that refuses CREATE EXTENSION (here PostgreSQL itself refuses an extension it lacks)."""
    with connection.cursor() as cursor:  # The fixture's rows: no foreign-key check left pending before DDL.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    trigram_indexes_drop(connection)
    monkeypatch.setattr(search_indexes, "EXTENSION", "docg_no_such_extension")
    with caplog.at_level("WARNING", logger="docg.executions.search_indexes"):
        assert trigram_indexes_create(connection) == []
    assert "CREATE EXTENSION pg_trgm" in caplog.text and "manage.py search_indexes" in caplog.text
    assert trigram_indexes_missing(connection) == [name for name, _table, _sql in search_indexes.INDEXES]

    # The refused statement did not abort the transaction around it, and search answers by scanning.
    assert found(alice_api, q="12.345.678/0001-90") == [str(runs["contract"].pk)]
    assert found(alice_api, q="contrato acme") == [str(runs["documented"].pk)]
    assert found(alice_api, q="ANA@CLIENTE") == [str(runs["signed"].pk)]

    monkeypatch.undo()  # pg_trgm, which this database has: the indexes come back.
    assert trigram_indexes_create(connection) == [name for name, _table, _sql in search_indexes.INDEXES]
    assert trigram_indexes_missing(connection) == []


@pytest.mark.django_db(transaction=True)
def test_the_command_builds_missing_indexes_without_blocking_writes():
    trigram_indexes_drop(connection)
    out = io.StringIO()
    call_command("search_indexes", stdout=out)  # CREATE INDEX CONCURRENTLY: outside any transaction.
    assert out.getvalue().startswith("Created: exec_trigger_trgm_idx")
    assert trigram_indexes_missing(connection) == []
    out = io.StringIO()
    call_command("search_indexes", stdout=out)
    assert "all present" in out.getvalue()
