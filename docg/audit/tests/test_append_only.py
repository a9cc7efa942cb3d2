"""The audit table refuses rewrites, and the hash chain catches whoever disables that guard."""

import uuid
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from docg.audit.hashing import GENESIS_HASH, chain_hash
from docg.audit.models import AuditEvent
from docg.audit.services import audit_log, audit_verify

TABLE = "audit_auditevent"
ROW_TRIGGER = "audit_refuse_update_delete"


def _raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _check_deferred_constraints_now() -> None:
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, so the rows the
    # fixtures inserted leave pending trigger events, and PostgreSQL refuses
    # TRUNCATE and ALTER TABLE on a table with pending events. Firing the checks
    # now clears them; the test transaction's rollback restores the mode.
    _raw("SET CONSTRAINTS ALL IMMEDIATE")
    _raw("SET CONSTRAINTS ALL DEFERRED")


def _assert_refused(sql: str, params: list | None = None) -> None:
    _check_deferred_constraints_now()
    # The savepoint keeps the test's own transaction usable after the error.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw(sql, params)


def _log_events(organization, count: int) -> list[AuditEvent]:
    return [audit_log(organization=organization, action="test.event", metadata={"n": n}) for n in range(count)]


def _with_trigger_disabled(sql: str, params: list | None = None) -> None:
    # ALTER TABLE is transactional in PostgreSQL: this never outlives the test's transaction.
    _check_deferred_constraints_now()
    _raw(f"ALTER TABLE {TABLE} DISABLE TRIGGER {ROW_TRIGGER}")
    try:
        _raw(sql, params)
    finally:
        # Updating a row inserted by this same transaction queues a foreign-key check again.
        _check_deferred_constraints_now()
        _raw(f"ALTER TABLE {TABLE} ENABLE TRIGGER {ROW_TRIGGER}")


def _event(organization, sequence: int) -> AuditEvent:
    return AuditEvent.objects.get(organization=organization, sequence=sequence)


def test_raw_update_is_refused_by_the_database(cast):
    _assert_refused(f"UPDATE {TABLE} SET action = 'forged'")
    assert not AuditEvent.objects.filter(action="forged").exists()


def test_raw_delete_is_refused_by_the_database(cast):
    before = AuditEvent.objects.count()
    _assert_refused(f"DELETE FROM {TABLE}")
    assert AuditEvent.objects.count() == before


def test_truncate_is_refused_by_the_database(cast):
    before = AuditEvent.objects.count()
    _assert_refused(f"TRUNCATE {TABLE}")
    assert AuditEvent.objects.count() == before


def test_orm_update_is_refused(cast):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(organization=cast.acme).update(action="forged")
    assert not AuditEvent.objects.filter(action="forged").exists()


def test_orm_delete_is_refused(cast):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(organization=cast.acme).delete()
    assert AuditEvent.objects.filter(organization=cast.acme).exists()


def test_intact_chains_of_two_organizations_verify(cast):
    _log_events(cast.acme, 4)
    _log_events(cast.globex, 3)
    total = AuditEvent.objects.count()

    assert audit_verify() == (total, None)

    out = _verify_command()
    assert f"OK: {total} rows verified" in out


def test_each_organization_has_its_own_chain(cast):
    _log_events(cast.acme, 4)
    _log_events(cast.globex, 2)

    for organization in (cast.acme, cast.globex):
        events = list(AuditEvent.objects.filter(organization=organization).order_by("sequence"))
        assert [e.sequence for e in events] == list(range(1, len(events) + 1))
        assert events[0].prev_hash == GENESIS_HASH
        for previous, event in pairwise(events):
            assert event.prev_hash == previous.hash


def test_tampered_metadata_names_the_altered_row(cast):
    _log_events(cast.acme, 4)
    tampered = _event(cast.acme, 3)

    _with_trigger_disabled(f"UPDATE {TABLE} SET event_metadata = %s WHERE id = %s", ['{"n": 999}', str(tampered.pk)])

    _, broken = audit_verify()
    assert broken is not None
    assert broken.organization_id == str(cast.acme.pk)
    assert broken.event_id == str(tampered.pk)
    assert broken.sequence == 3
    assert "altered" in broken.reason
    # Verification stops at the first break: rows 1 to 3 of Acme were read.
    assert audit_verify(organization_id=cast.acme.pk) == (3, broken)


def test_verify_audit_command_fails_naming_the_tampered_row(cast):
    _log_events(cast.acme, 4)
    tampered = _event(cast.acme, 2)
    _with_trigger_disabled(f"UPDATE {TABLE} SET event_metadata = %s WHERE id = %s", ['{"n": -1}', str(tampered.pk)])

    with pytest.raises(CommandError) as exc:
        _verify_command()

    message = str(exc.value)
    assert exc.value.returncode == 1
    assert str(cast.acme.pk) in message
    assert str(tampered.pk) in message
    assert "sequence 2" in message
    assert "altered" in message


def test_a_rewritten_hash_is_caught_by_the_next_row(cast):
    # An attacker who also recomputes the tampered row's hash still breaks the link to the next row.
    _log_events(cast.acme, 4)
    tampered = _event(cast.acme, 2)
    tampered.event_metadata = {"n": 42}
    forged_hash = chain_hash(tampered.prev_hash, tampered)
    _with_trigger_disabled(
        f"UPDATE {TABLE} SET event_metadata = %s, hash = %s WHERE id = %s",
        ['{"n": 42}', forged_hash, str(tampered.pk)],
    )

    _, broken = audit_verify()
    assert broken is not None
    assert broken.event_id == str(_event(cast.acme, 3).pk)
    assert "prev_hash" in broken.reason


def test_a_deleted_row_is_detected_as_a_gap(cast):
    _log_events(cast.acme, 4)
    _with_trigger_disabled(f"DELETE FROM {TABLE} WHERE id = %s", [str(_event(cast.acme, 3).pk)])

    _, broken = audit_verify()
    assert broken is not None
    assert broken.event_id == str(_event(cast.acme, 4).pk)
    assert broken.sequence == 4
    assert "missing" in broken.reason

    with pytest.raises(CommandError, match="missing"):
        _verify_command()


def test_org_option_limits_verification_to_one_organization(cast):
    _log_events(cast.acme, 3)
    _log_events(cast.globex, 3)
    _with_trigger_disabled(
        f"UPDATE {TABLE} SET event_metadata = %s WHERE id = %s", ['{"n": 7}', str(_event(cast.globex, 2).pk)]
    )
    acme_rows = AuditEvent.objects.filter(organization=cast.acme).count()

    assert audit_verify(organization_id=cast.acme.pk) == (acme_rows, None)
    assert f"OK: {acme_rows} rows verified" in _verify_command("--org", str(cast.acme.pk))

    with pytest.raises(CommandError, match=str(cast.globex.pk)):
        _verify_command("--org", str(cast.globex.pk))


def test_org_option_refuses_an_invalid_uuid(cast):
    with pytest.raises(CommandError, match="must be an organization UUID"):
        _verify_command("--org", "not-a-uuid")


def test_org_option_refuses_an_unknown_organization(cast):
    with pytest.raises(CommandError, match="No organization"):
        _verify_command("--org", str(uuid.uuid4()))


def _verify_command(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()
