import datetime
import uuid
from decimal import Decimal
from itertools import pairwise

from docg.audit.choices import ActorType
from docg.audit.hashing import GENESIS_HASH, chain_hash
from docg.audit.models import AuditEvent
from docg.audit.services import audit_log, audit_verify, user_actor


def test_it_writes_the_correlation_id_into_metadata(cast):
    correlation_id = uuid.uuid4()

    event = audit_log(
        organization=cast.acme,
        action="execution.started",
        target_type="execution",
        target_id=uuid.uuid4(),
        metadata={"workflow": "invoice"},
        correlation_id=correlation_id,
    )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.event_metadata == {"workflow": "invoice", "correlation_id": str(correlation_id)}


def test_it_leaves_metadata_without_correlation_id_when_none_is_given(cast):
    event = audit_log(organization=cast.acme, action="execution.started", metadata={"a": 1})

    assert AuditEvent.objects.get(pk=event.pk).event_metadata == {"a": 1}


def test_it_hashes_the_row_onto_the_previous_hash(cast):
    tail = AuditEvent.objects.filter(organization=cast.acme).order_by("-sequence").first()

    event = audit_log(organization=cast.acme, action="document.generated", **user_actor(cast.alice))

    assert event.sequence == tail.sequence + 1
    assert event.prev_hash == tail.hash
    assert event.hash == chain_hash(tail.hash, event)
    assert event.actor_type == ActorType.USER
    assert event.actor_id == str(cast.alice.pk)


def test_the_hash_survives_a_round_trip_through_the_database(cast):
    # The hash is computed before the INSERT; the row read back (timestamp
    # precision, JSON types) must hash to the same value or verify would fail.
    event = audit_log(
        organization=cast.globex,
        action="document.sent",
        metadata={
            "when": datetime.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=datetime.UTC),
            "amount": Decimal("10.50"),
            "id": uuid.uuid4(),
            "nested": {"b": [1, 2.5, None, True], "a": "ação"},
        },
        correlation_id="corr-1",
    )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.hash == event.hash
    assert chain_hash(stored.prev_hash, stored) == stored.hash
    assert audit_verify(organization_id=cast.globex.pk)[1] is None


def test_the_first_event_of_an_organization_starts_the_chain(cast):
    first = AuditEvent.objects.get(organization=cast.globex, sequence=1)

    assert first.prev_hash == GENESIS_HASH
    assert first.hash == chain_hash(GENESIS_HASH, first)


def test_twenty_writes_make_one_unbroken_chain(cast):
    start = AuditEvent.objects.filter(organization=cast.acme).count()

    for n in range(20):
        audit_log(organization=cast.acme, action="execution.retried", metadata={"n": n})

    events = list(AuditEvent.objects.filter(organization=cast.acme).order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, start + 21))
    for previous, event in pairwise(events):
        assert event.prev_hash == previous.hash
        assert event.hash == chain_hash(previous.hash, event)
    assert audit_verify(organization_id=cast.acme.pk) == (start + 20, None)


def test_it_accepts_an_organization_id_instead_of_an_instance(cast):
    event = audit_log(organization=cast.acme.pk, action="workflow.created")

    assert event.organization_id == cast.acme.pk
    assert audit_verify(organization_id=cast.acme.pk)[1] is None
