"""A transaction's audit rows written together at the end of `audit_batch()`, still one unbroken chain."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from docg.audit.models import AuditEvent
from docg.audit.services import audit_batch, audit_log, audit_verify


def test_the_rows_of_a_batch_are_written_and_chained_at_its_end(cast):
    before = AuditEvent.objects.filter(organization=cast.acme).count()

    with transaction.atomic(), audit_batch():
        first = audit_log(organization=cast.acme, action="test.first")
        second = audit_log(organization=cast.acme.pk, action="test.second")
        assert AuditEvent.objects.filter(organization=cast.acme).count() == before  # not written yet

    assert (first.sequence, second.sequence) == (before + 1, before + 2)
    assert second.prev_hash == first.hash
    assert audit_verify(organization_id=cast.acme.pk) == (before + 2, None)


def test_a_batch_claims_the_chain_once_and_inserts_its_rows_in_one_query(cast):
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), audit_batch():
        for n in range(5):
            audit_log(organization=cast.acme, action="test.many", metadata={"n": n})

    audit_queries = [q["sql"] for q in queries.captured_queries if "audit_auditevent" in q["sql"]]
    assert len(audit_queries) == 2  # the claim (try-lock, tail, pending) and one INSERT
    assert audit_verify(organization_id=cast.acme.pk)[1] is None


def test_rows_of_a_savepoint_rolled_back_inside_a_batch_are_not_kept(cast):
    with transaction.atomic(), audit_batch():
        audit_log(organization=cast.acme, action="test.kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_log(organization=cast.acme, action="test.rolled_back")
            raise RuntimeError
        audit_log(organization=cast.globex, action="test.other_org")

    actions = set(AuditEvent.objects.filter(action__startswith="test.").values_list("action", flat=True))
    assert actions == {"test.kept", "test.other_org"}
    assert audit_verify() == (AuditEvent.objects.count(), None)


def test_an_exception_out_of_a_batch_leaves_no_row(cast):
    with pytest.raises(RuntimeError), transaction.atomic(), audit_batch():
        audit_log(organization=cast.acme, action="test.failed")
        raise RuntimeError

    assert not AuditEvent.objects.filter(action="test.failed").exists()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_batch_writes_each_row_at_once(cast):
    with audit_batch():
        event = audit_log(organization=cast.acme, action="test.autocommit")
        assert AuditEvent.objects.get(pk=event.pk).sequence == event.sequence


@pytest.mark.django_db(transaction=True)
def test_an_uncontended_audited_transaction_costs_three_audit_queries(cast):
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        event = audit_log(organization=cast.acme, action="test.brief")

    audit_queries = [q["sql"] for q in queries.captured_queries if "audit_auditevent" in q["sql"]]
    assert len(audit_queries) == 3  # the claim, the INSERT, and the look for pending rows after COMMIT
    assert AuditEvent.objects.get(pk=event.pk).sequence == event.sequence
    assert audit_verify(organization_id=cast.acme.pk)[1] is None
