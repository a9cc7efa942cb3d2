"""The worker side of a HubSpot deal event: fetch the deal with its associations, then start the run.

Ids in, rows loaded, services called. A delivery that already has its run is
done (a redelivered message). Transient HubSpot errors (429, 5xx, timeouts)
raise so Dramatiq retries with backoff (no run until the fetch succeeds).
Permanent ones (expired connection, missing scope, deleted deal) still start
the run — once per delivery, with the same correlation id — with trigger data
{event, raw_event, enrichment_error}; the HubSpot trigger's preflight hook
(preflight.py) blocks it, so it waits in needs_review with the fix to apply.
"""

import logging
import uuid
from typing import Any

import dramatiq
from django.db import transaction

from docg.audit.choices import ActorType
from docg.common.errors import DocgError
from docg.connectors.choices import ConnectionStatus
from docg.connectors.models import DataSourceConnection
from docg.executions.engine import execution_start
from docg.providers.hubspot.client import MESSAGES
from docg.providers.hubspot.deals import deal_matches, event_summary, trigger_data_for, workflow_trigger
from docg.workflows.models import WebhookDelivery

logger = logging.getLogger(__name__)


class RetryableHubSpotError(Exception):
    """A transient HubSpot error: Dramatiq retries the message."""


def _retry_transient(retries_so_far: int, exception: BaseException) -> bool:
    return isinstance(exception, RetryableHubSpotError) and retries_so_far < 5


@dramatiq.actor(
    queue_name="webhooks",
    actor_name="docg.hubspot.process_deal_event",
    max_retries=5,
    min_backoff=2000,
    max_backoff=300_000,
    retry_when=_retry_transient,
)
def process_deal_event(delivery_id: str, connection_id: str, event: dict[str, Any]) -> None:
    deal_event_process(delivery_id=delivery_id, connection_id=connection_id, event=event)


def deal_event_process(*, delivery_id: str, connection_id: str, event: dict[str, Any]) -> str | None:
    """Enrich one queued deal event and start its run; returns the execution id (None: no run)."""
    delivery = WebhookDelivery.objects.select_related("workflow__active_version").filter(pk=delivery_id).first()
    connection = DataSourceConnection.objects.select_related("organization").filter(pk=connection_id).first()
    if delivery is None or connection is None or delivery.execution_id:
        return None
    parameters = workflow_trigger(delivery.workflow).get("parameters") or {}
    # The run's correlation id: the deal fetch below is the run's first outgoing call.
    correlation_id = str(uuid.uuid4())
    try:
        if connection.status == ConnectionStatus.EXPIRED:
            # An earlier event's refresh already failed: say so again without asking HubSpot.
            raise MESSAGES.error("oauth_expired", "expired", {"connection_id": str(connection.pk)})
        data = trigger_data_for(
            connection=connection, event=event, parameters=parameters, correlation_id=correlation_id
        )
    except DocgError as exc:
        if exc.transient:
            raise RetryableHubSpotError(f"{exc.code}: {exc.human}") from exc
        logger.warning(
            "HubSpot event %s for workflow %s: the deal could not be read (%s); its run starts blocked",
            event.get("eventId"),
            delivery.workflow_id,
            exc.code,
        )
        # The pipeline / stage filters cannot be judged without the deal: the run starts anyway, so the
        # business user sees what went wrong (preflight blocks it with this code and its fix).
        data = {
            "event": event_summary(event),
            "raw_event": event,
            "enrichment_error": {
                "code": exc.code,
                "message_human": MESSAGES.translate(exc, connection.organization.language),
                "details_tech": exc.details,
            },
        }
    else:
        if not deal_matches(parameters, data.get("deal")):
            return None
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.execution_id:
            return None
        try:
            execution = execution_start(
                workflow=delivery.workflow,
                trigger_data=data,
                actor_type=ActorType.WEBHOOK,
                correlation_id=correlation_id,
            )
        except DocgError as exc:  # deactivated meanwhile, or a deal too large for trigger data
            logger.warning("HubSpot event %s started no run: %s", event.get("eventId"), exc.message)
            return None
        locked.execution = execution
        locked.save(update_fields=["execution", "updated_at"])
    return str(execution.pk)
