"""The audit trail: rows written in the caller's transaction, chained per organization by one writer.

Chaining a row needs the chain's tail, so two writers of one organization must
not chain at the same time. Holding a lock for that from the first audit row to
COMMIT serialized every organization's runs, so the chain lock is only ever
*tried*: `audit_log` inserts the row, seals it at once when the lock is free
(no one else is chaining), and otherwise leaves it unsealed. After its commit,
`audit_seal` seals what is pending in a short transaction of its own.
Whoever holds the lock looks for pending rows again after releasing it, so a
row whose own sealer found the lock taken is sealed by the holder;
`verify_audit` seals whatever is left (a holder that rolled back) before it
verifies. (Waiting for the lock after commit instead was measured: with many
concurrent writers of one organization the waiting sealers queue up behind one
another and cost more than the look they save.)

The try-lock, the chain's tail and the check for pending rows go to the
database in one round trip. Inside `audit_batch()` (the engine's transactions,
a run's start) the rows wait for the end of the block, then go in with one
claim and one INSERT: the lock is held from the transaction's last write to
COMMIT only, so concurrent writers of one organization seldom find it taken.
"""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from docg.audit.choices import ActorType
from docg.audit.hashing import GENESIS_HASH, chain_hash
from docg.audit.models import AuditEvent

# The first key of the two-key advisory lock: "audi", so the chain locks share no keys with other users.
CHAIN_LOCK_CLASS = 0x61756469


def _json_safe(value: dict) -> dict:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


# The lock and the reads it guards in one round trip: two statements, so the reads take their
# snapshot after the lock is held (PostgreSQL's READ COMMITTED: one snapshot per statement) and see
# everything the previous holder committed. Read whether or not the lock was had; used only if it was.
_CLAIM = """
SELECT {function}(%(lock_class)s, hashtext(%(lock_key)s));
SELECT tail.sequence, tail.hash,
       EXISTS (SELECT 1 FROM audit_auditevent WHERE organization_id = %(org)s AND sequence IS NULL)
FROM (SELECT 1) AS one LEFT JOIN LATERAL (
    SELECT sequence, hash FROM audit_auditevent
    WHERE organization_id = %(org)s AND sequence IS NOT NULL ORDER BY sequence DESC LIMIT 1
) AS tail ON TRUE
"""


@dataclass(frozen=True)
class _Claim:
    locked: bool
    sequence: int
    prev_hash: str
    pending: bool


def _claim(organization_id: Any, *, wait: bool) -> _Claim:
    """Try (or with `wait`, take) the chain lock; with it, the chain's tail and whether rows wait to be sealed."""
    if connection.vendor != "postgresql":
        tail = (
            AuditEvent.objects.filter(organization_id=organization_id, sequence__isnull=False)
            .order_by("-sequence")
            .values_list("sequence", "hash")
            .first()
        )
        return _Claim(True, *(tail or (0, GENESIS_HASH)), _pending_exists(organization_id))
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    org_field = AuditEvent._meta.get_field("organization")
    params = {
        "lock_class": CHAIN_LOCK_CLASS,
        "lock_key": str(organization_id),
        "org": org_field.get_db_prep_value(organization_id, connection),
    }
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM.format(function=function), params)
        (locked,) = cursor.fetchone()
        cursor.nextset()
        sequence, prev_hash, pending = cursor.fetchone()
    return _Claim(wait or bool(locked), sequence or 0, prev_hash or GENESIS_HASH, pending)


_SEAL = """
UPDATE audit_auditevent AS event SET sequence = seal.sequence, prev_hash = seal.prev_hash, hash = seal.hash
FROM (VALUES {rows}) AS seal (id, sequence, prev_hash, hash) WHERE event.id = seal.id
"""


def _write_seals(events: list[AuditEvent]) -> None:
    """Fill the seal columns of rows already inserted: one UPDATE (the only one the table lets through)."""
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_update(events, ["sequence", "prev_hash", "hash"])
        return
    rows = ", ".join(["(%s::uuid, %s::bigint, %s, %s)"] * len(events))
    params = [value for e in events for value in (str(e.pk), e.sequence, e.prev_hash, e.hash)]
    with connection.cursor() as cursor:
        cursor.execute(_SEAL.format(rows=rows), params)


def _seal_pending(organization_id: Any, claim: _Claim, new: list[AuditEvent] = ()) -> int:
    """Chain the organization's visible unsealed rows (then `new`, unsaved) onto the claimed tail; the lock is held."""
    pending = []
    if claim.pending:
        pending = list(
            AuditEvent.objects.filter(organization_id=organization_id, sequence__isnull=True).order_by(
                "timestamp", "id"
            )
        )
    sequence, prev_hash = claim.sequence, claim.prev_hash
    for event in [*pending, *new]:
        sequence += 1
        event.sequence, event.prev_hash = sequence, prev_hash
        event.hash = prev_hash = chain_hash(prev_hash, event)
    if pending:
        _write_seals(pending)
    return len(pending)


def _pending_exists(organization_id: Any) -> bool:
    return AuditEvent.objects.filter(organization_id=organization_id, sequence__isnull=True).exists()


def audit_seal(*, organization_id: Any, wait: bool = False) -> int:
    """Seal the organization's committed unsealed rows in short transactions of their own; return how many.

    Without `wait` it gives up when another writer holds the chain lock: that
    writer checks for pending rows again once it released the lock.
    """
    sealed = 0
    while _pending_exists(organization_id):
        with transaction.atomic():
            claim = _claim(organization_id, wait=wait)
            if not claim.locked:
                break
            count = _seal_pending(organization_id, claim)
        # Loop even after sealing nothing: a writer may have found the lock taken
        # while this pass held it, and its row is ours to seal now.
        sealed += count
    return sealed


def audit_seal_all(*, organization_id: Any = None) -> int:
    """Seal every organization's (or one's) pending rows, waiting for each chain lock (verify_audit, a sweep)."""
    pending = AuditEvent.objects.filter(sequence__isnull=True)
    if organization_id is not None:
        pending = pending.filter(organization_id=organization_id)
    organizations = pending.values_list("organization_id", flat=True)
    return sum(audit_seal(organization_id=org_id, wait=True) for org_id in set(organizations))


class _SealAfterCommit:
    """The on-commit sealer of one organization's chain (one per transaction and organization)."""

    def __init__(self, organization_id: Any) -> None:
        self.organization_id = organization_id

    def __call__(self) -> None:
        audit_seal(organization_id=self.organization_id)


def _seal_after_commit(organization_id: Any) -> None:
    queued = (entry[1] for entry in connection.run_on_commit)
    if not any(isinstance(f, _SealAfterCommit) and str(f.organization_id) == str(organization_id) for f in queued):
        # robust: a failed seal must not fail the request that already committed; the next one seals it.
        transaction.on_commit(_SealAfterCommit(organization_id), robust=True)


def audit_log(
    *,
    organization: Any,
    action: str,
    actor_type: str = ActorType.SYSTEM,
    actor_id: Any = "",
    target_type: str = "",
    target_id: Any = "",
    metadata: dict | None = None,
    correlation_id: Any = None,
) -> AuditEvent:
    """Append one audit row to the organization's trail; it is chained now or just after commit.

    Call it inside the transaction of the change it records: the row commits or
    rolls back with that change. It never waits for another transaction.
    """
    org_id = getattr(organization, "pk", organization)
    event_metadata = _json_safe(metadata or {})
    if correlation_id is not None:
        event_metadata["correlation_id"] = str(correlation_id)
    event = AuditEvent(
        organization_id=org_id,
        timestamp=timezone.now(),
        actor_type=actor_type,
        actor_id=str(actor_id or ""),
        action=action,
        target_type=target_type,
        target_id=str(target_id or ""),
        event_metadata=event_metadata,
    )
    batch = getattr(_batches, "open", None)
    if batch is not None and batch.holds_rows_of_this_transaction():
        batch.events.append(event)
    else:
        _insert(org_id, [event])
    return event


def _insert(organization_id: Any, events: list[AuditEvent]) -> None:
    """Insert rows of one organization in one INSERT, chained at once if the chain lock is free."""
    with transaction.atomic(savepoint=False):
        claim = _claim(organization_id, wait=False)
        if claim.locked:
            _seal_pending(organization_id, claim, new=events)
        AuditEvent.objects.bulk_create(events)
        _seal_after_commit(organization_id)


class _Batch:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self.savepoints = list(connection.savepoint_ids)

    def holds_rows_of_this_transaction(self) -> bool:
        """False inside a savepoint opened in the block: its rows must roll back with it, so they go in at once."""
        return connection.in_atomic_block and connection.savepoint_ids == self.savepoints


_batches = threading.local()


@contextmanager
def audit_batch() -> Iterator[None]:
    """Write the block's audit rows at its end: one chain claim and one INSERT per organization.

    Put it right inside the `transaction.atomic()` whose body it wraps, first, so
    that its end is the transaction's last write: the chain lock is then held
    only from there to COMMIT, and concurrent writers of the organization rarely
    find it taken. An exception out of the block drops the rows (the transaction
    rolls back with them). Outside a transaction it changes nothing.
    """
    if getattr(_batches, "open", None) is not None or not connection.in_atomic_block:
        yield
        return
    _batches.open = batch = _Batch()
    try:
        yield
    finally:
        _batches.open = None
    by_organization: dict[Any, list[AuditEvent]] = {}
    for event in batch.events:
        by_organization.setdefault(event.organization_id, []).append(event)
    for organization_id, events in by_organization.items():
        _insert(organization_id, events)


def user_actor(user: Any) -> dict:
    """Keyword arguments naming a user (or the system when there is none) as the actor.

    An API key's principal (docg/orgs/api_keys.py) is named by the key's name, unique in its organization.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return {"actor_type": ActorType.SYSTEM, "actor_id": ""}
    if getattr(user, "is_api_key", False):
        return {"actor_type": ActorType.API_KEY, "actor_id": user.name[:64]}
    return {"actor_type": ActorType.USER, "actor_id": str(user.pk)}


@dataclass(frozen=True)
class ChainBreak:
    organization_id: str
    event_id: str
    sequence: int
    reason: str


def audit_verify(*, organization_id: Any = None) -> tuple[int, ChainBreak | None]:
    """Recompute every sealed chain (or one organization's); return rows checked and the first break.

    Rows not sealed yet are not part of a chain: seal them first (`audit_seal_all`).
    """
    qs = AuditEvent.objects.filter(sequence__isnull=False).order_by("organization_id", "sequence")
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    checked = 0
    current_org = None
    prev_hash = GENESIS_HASH
    expected_sequence = 1
    for event in qs.iterator(chunk_size=2000):
        if event.organization_id != current_org:
            current_org, prev_hash, expected_sequence = event.organization_id, GENESIS_HASH, 1
        checked += 1
        reason = None
        if event.sequence != expected_sequence:
            reason = f"sequence {event.sequence} found where {expected_sequence} was expected (a row is missing)"
        elif event.prev_hash != prev_hash:
            reason = "prev_hash does not match the previous row's hash"
        elif chain_hash(prev_hash, event) != event.hash:
            reason = "hash does not match the row's content (the row was altered)"
        if reason:
            return checked, ChainBreak(str(event.organization_id), str(event.id), event.sequence, reason)
        prev_hash, expected_sequence = event.hash, event.sequence + 1
    return checked, None


def audit_unsealed_count(*, organization_id: Any = None) -> int:
    """Rows committed but not chained yet."""
    qs = AuditEvent.objects.filter(sequence__isnull=True)
    return (qs if organization_id is None else qs.filter(organization_id=organization_id)).count()
