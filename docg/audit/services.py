from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from docg.audit.choices import ActorType
from docg.audit.hashing import GENESIS_HASH, chain_hash
from docg.audit.models import AuditEvent
from docg.orgs.models import Organization


def _json_safe(value: dict) -> dict:
    import json

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_log(
    *,
    organization: Organization | Any,
    action: str,
    actor_type: str = ActorType.SYSTEM,
    actor_id: Any = "",
    target_type: str = "",
    target_id: Any = "",
    metadata: dict | None = None,
    correlation_id: Any = None,
) -> AuditEvent:
    """Append one audit row to the organization's hash chain.

    Call it inside the transaction of the change it records: the row commits or
    rolls back with that change.
    """
    org_id = getattr(organization, "pk", organization)
    event_metadata = _json_safe(metadata or {})
    if correlation_id is not None:
        event_metadata["correlation_id"] = str(correlation_id)
    # Inside the caller's transaction no savepoint is needed (an error aborts it all);
    # on its own the call still gets a transaction for the lock below.
    with transaction.atomic(savepoint=False):
        # The organization row is the chain's lock: two writers for one tenant
        # would otherwise read the same tail and fork the chain.
        Organization.objects.select_for_update().only("id").get(pk=org_id)
        tail = (
            AuditEvent.objects.filter(organization_id=org_id)
            .order_by("-sequence")
            .values_list("sequence", "hash")
            .first()
        )
        sequence, prev_hash = (tail[0] + 1, tail[1]) if tail else (1, GENESIS_HASH)
        event = AuditEvent(
            organization_id=org_id,
            sequence=sequence,
            timestamp=timezone.now(),
            actor_type=actor_type,
            actor_id=str(actor_id or ""),
            action=action,
            target_type=target_type,
            target_id=str(target_id or ""),
            event_metadata=event_metadata,
            prev_hash=prev_hash,
        )
        event.hash = chain_hash(prev_hash, event)
        event.save(force_insert=True)
    return event


def user_actor(user: Any) -> dict:
    """Keyword arguments naming a user (or the system when there is none) as the actor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {"actor_type": ActorType.SYSTEM, "actor_id": ""}
    return {"actor_type": ActorType.USER, "actor_id": str(user.pk)}


@dataclass(frozen=True)
class ChainBreak:
    organization_id: str
    event_id: str
    sequence: int
    reason: str


def audit_verify(*, organization_id: Any = None) -> tuple[int, ChainBreak | None]:
    """Recompute every chain (or one organization's); return rows checked and the first break."""
    qs = AuditEvent.objects.order_by("organization_id", "sequence")
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
