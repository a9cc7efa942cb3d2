"""The audit hash chain: SHA-256 over the previous hash and the row's canonical JSON."""

import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_payload(event: Any) -> str:
    payload = {
        "id": str(event.id),
        "organization_id": str(event.organization_id),
        "sequence": event.sequence,
        "timestamp": event.timestamp.isoformat(timespec="microseconds"),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "metadata": event.event_metadata,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, event: Any) -> str:
    return hashlib.sha256((prev_hash + canonical_payload(event)).encode()).hexdigest()
