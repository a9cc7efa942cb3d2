"""One chain writer per organization: audit rows never wait for another transaction, and stay tamper-evident."""

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from docg.audit.models import AuditEvent
from docg.audit.services import audit_log, audit_verify

DEADLINE = 10  # seconds; the waits below end as soon as their condition holds


def _in_thread(target) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def _unsealed(organization) -> AuditEvent:
    """A committed row its own sealer never got to (its writer found the chain lock taken)."""
    return AuditEvent.objects.create(
        organization=organization, timestamp=timezone.now(), actor_type="system", action="test.unsealed"
    )


@pytest.mark.django_db(transaction=True)
def test_two_open_transactions_of_one_organization_do_not_wait_for_each_other(cast):
    holding, release, quick_done = threading.Event(), threading.Event(), threading.Event()

    def long_transaction() -> None:
        with transaction.atomic():
            audit_log(organization=cast.acme.pk, action="test.long")
            holding.set()
            assert release.wait(DEADLINE)

    def quick_transaction() -> None:
        with transaction.atomic():
            audit_log(organization=cast.acme.pk, action="test.quick")
        quick_done.set()

    long_thread, long_errors = _in_thread(long_transaction)
    try:
        assert holding.wait(DEADLINE)
        quick_thread, quick_errors = _in_thread(quick_transaction)
        # The old chain lock (the organization row, FOR UPDATE) made this wait for the long transaction.
        assert quick_done.wait(5), "an audit row waited for another transaction of its organization"
        quick_thread.join(DEADLINE)
        assert not quick_errors
    finally:
        release.set()
        long_thread.join(DEADLINE)
    assert not long_errors

    # The long transaction held the chain lock: after its commit it sealed the quick one's row too.
    assert not AuditEvent.objects.filter(sequence__isnull=True).exists()
    rows = list(AuditEvent.objects.filter(organization=cast.acme).order_by("sequence"))
    assert [r.action for r in rows[-2:]] == ["test.long", "test.quick"]
    assert audit_verify() == (AuditEvent.objects.count(), None)

    # Tampering with a row sealed after commit is caught like any other.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_refuse_update_delete")
        cursor.execute("UPDATE audit_auditevent SET action = 'test.forged' WHERE id = %s", [str(rows[-1].pk)])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_refuse_update_delete")
    with pytest.raises(CommandError, match=f"row {rows[-1].pk}, sequence {rows[-1].sequence}: .*altered"):
        call_command("verify_audit", stdout=StringIO())


def test_verify_audit_seals_rows_left_unsealed_then_verifies_them(cast):
    stranded = _unsealed(cast.acme)
    out = StringIO()

    call_command("verify_audit", stdout=out)

    assert "1 unsealed row(s) sealed first" in out.getvalue()
    stranded.refresh_from_db()
    assert stranded.sequence == AuditEvent.objects.filter(organization=cast.acme).count()
    assert audit_verify(organization_id=cast.acme.pk)[1] is None


def test_the_next_write_of_the_organization_seals_earlier_unsealed_rows_first(cast):
    stranded = _unsealed(cast.acme)

    event = audit_log(organization=cast.acme, action="test.next")

    stranded.refresh_from_db()
    assert (stranded.sequence + 1, stranded.hash) == (event.sequence, event.prev_hash)


def test_sealing_is_the_only_update_the_database_allows(cast):
    row = _unsealed(cast.acme)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).update(action="forged", sequence=999, prev_hash="0", hash="0")

    AuditEvent.objects.filter(pk=row.pk).update(sequence=999, prev_hash="0" * 64, hash="1" * 64)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).update(hash="2" * 64)
