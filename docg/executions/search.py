"""Finding runs (issue 15): a text query over trigger data values, document names and signer emails.

On PostgreSQL each of the three is a case-insensitive substring match that a
trigram GIN index serves (migration 0006: `UPPER(trigger_data::text)`,
`UPPER(name)` of generated documents, `UPPER(signer_email)` of signature
requests), so "12.345.678/0001-90" finds the run whose trigger carried that
CNPJ without scanning every run. Where pg_trgm could not be installed the indexes
are absent (docg.executions.search_indexes) and the same query scans: slower,
same answers. Elsewhere (SQLite in development) the query runs as plain
`icontains`, unindexed.
"""

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from docg.common.errors import DocgError
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.models import WorkflowExecution

MIN_QUERY = 3  # A trigram index needs three characters to narrow anything.
MAX_QUERY = 200


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.upper()}%"


def search_query_check(q: str) -> str:
    q = (q or "").strip()
    if len(q) < MIN_QUERY or len(q) > MAX_QUERY:
        raise DocgError(
            "search.query_length",
            f"Search for {MIN_QUERY} to {MAX_QUERY} characters.",
            details={"q": [f"{MIN_QUERY} to {MAX_QUERY} characters."]},
        )
    if "\x00" in q:
        raise DocgError("search.query_invalid", "The search may not contain NUL characters.", details={"q": ["NUL"]})
    return q


def _upper_like(sql: str, pattern: str) -> RawSQL:
    # The pattern is a bound parameter; `sql` is one of this module's fixed column expressions.
    return RawSQL(f"UPPER({sql}) LIKE %s", [pattern], output_field=BooleanField())  # noqa: S611


def search_conditions(q: str) -> tuple[Q, QuerySet[GeneratedDocument], QuerySet[SignatureRequest]]:
    """What matches `q`, unscoped: a condition on runs, and the documents and signature requests that match."""
    if connection.vendor == "postgresql":
        pattern = _like(q)
        table = WorkflowExecution._meta.db_table
        return (
            Q(_upper_like(f'("{table}"."trigger_data")::text', pattern)),
            GeneratedDocument.objects.filter(_upper_like('"name"', pattern)),
            SignatureRequest.objects.filter(_upper_like('"signer_email"', pattern)),
        )
    return (
        Q(trigger_data__icontains=q),
        GeneratedDocument.objects.filter(name__icontains=q),
        SignatureRequest.objects.filter(signer_email__icontains=q),
    )


def executions_matching(runs: QuerySet[WorkflowExecution], *, organization, q: str) -> QuerySet[WorkflowExecution]:
    """`runs` narrowed to those whose trigger data, document names or signer emails contain `q`."""
    org_id = getattr(organization, "pk", organization)
    in_trigger, documents, signatures = search_conditions(search_query_check(q))
    documents = documents.filter(organization_id=org_id, execution__isnull=False)
    signatures = signatures.filter(organization_id=org_id)
    return runs.filter(
        in_trigger | Q(pk__in=documents.values("execution_id")) | Q(pk__in=signatures.values("execution_id"))
    )
