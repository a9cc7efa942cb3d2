"""What a HubSpot deal event is: which events a trigger listens to, and the deal it becomes as trigger data.

HubSpot's webhook only says "deal 123 changed"; the run's trigger data is the
enriched deal, fetched by the worker before the run starts (actors.py):
GET /crm/v3/objects/deals/{id}, the associated ids through the v4 associations
API, then one batch read per associated type. Output:
{event, deal, contacts, company, companies, line_items}.

The package's imports go one way: triggers.py (the declaration) and
webhooks.py → actors.py → deals.py → client.py.
"""

from typing import Any

from docg.providers.hubspot.client import HubSpotClient

SUBSCRIPTION_TYPES = ["deal.creation", "deal.propertyChange"]
DEAL_PROPERTIES = [
    "dealname",
    "amount",
    "dealstage",
    "pipeline",
    "closedate",
    "deal_currency_code",
    "hubspot_owner_id",
    "description",
    "createdate",
    "hs_lastmodifieddate",
]
CONTACT_PROPERTIES = ["firstname", "lastname", "email", "phone", "jobtitle", "company", "address", "city", "zip"]
COMPANY_PROPERTIES = ["name", "domain", "phone", "address", "city", "state", "zip", "country", "industry"]
LINE_ITEM_PROPERTIES = ["name", "quantity", "price", "amount", "hs_sku", "description", "discount", "hs_product_id"]


def workflow_trigger(workflow: Any) -> dict[str, Any]:
    """The trigger node of the workflow's active version ({} when it has none)."""
    version = workflow.active_version
    nodes = ((version.definition or {}).get("nodes") if version else None) or [{}]
    return nodes[0]


def event_matches(parameters: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether the event (before fetching the deal) is one this trigger listens to."""
    kinds = parameters.get("subscription_types") or SUBSCRIPTION_TYPES
    if event.get("subscriptionType") not in kinds:
        return False
    names = parameters.get("property_names") or []
    if event.get("subscriptionType") == "deal.propertyChange" and names:
        return event.get("propertyName") in names
    return True


def deal_matches(parameters: dict[str, Any], deal: dict[str, Any]) -> bool:
    """The pipeline / stage filters, on the fetched deal."""
    properties = deal.get("properties") or {}
    if parameters.get("pipeline") and str(properties.get("pipeline") or "") != parameters["pipeline"]:
        return False
    stages = parameters.get("stages") or []
    return not stages or str(properties.get("dealstage") or "") in stages


def _object(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(raw.get("id") or ""),
        "properties": raw.get("properties") or {},
        "created_at": raw.get("createdAt"),
        "updated_at": raw.get("updatedAt"),
    }


def event_summary(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": event.get("eventId"),
        "subscription_type": event.get("subscriptionType"),
        "portal_id": event.get("portalId"),
        "object_id": event.get("objectId"),
        "occurred_at": event.get("occurredAt"),
        "property_name": event.get("propertyName"),
        "property_value": event.get("propertyValue"),
        "change_source": event.get("changeSource"),
    }


def fetch_deal_bundle(
    *, connection: Any, deal_id: str, parameters: dict[str, Any], correlation_id: str = ""
) -> dict[str, Any]:
    """The deal with its associated contacts, companies and line items (CRM v3 objects + v4 associations)."""
    client = HubSpotClient(connection, correlation_id=correlation_id)
    properties = list(dict.fromkeys(DEAL_PROPERTIES + list(parameters.get("deal_properties") or [])))
    deal = _object(client.get_deal(deal_id, properties=properties))
    bundle: dict[str, Any] = {"deal": deal}
    for to_type, key, wanted in (
        ("contacts", "contacts", CONTACT_PROPERTIES),
        ("companies", "companies", COMPANY_PROPERTIES),
        ("line_items", "line_items", LINE_ITEM_PROPERTIES),
    ):
        ids = client.associated_ids("deals", deal["id"] or deal_id, to_type)
        bundle[key] = [_object(r) for r in client.batch_read(to_type, ids, properties=wanted)] if ids else []
    bundle["company"] = bundle["companies"][0] if bundle["companies"] else None
    return bundle


def trigger_data_for(
    *, connection: Any, event: dict[str, Any], parameters: dict[str, Any], correlation_id: str = ""
) -> dict[str, Any]:
    bundle = fetch_deal_bundle(
        connection=connection, deal_id=str(event["objectId"]), parameters=parameters, correlation_id=correlation_id
    )
    return {"event": event_summary(event), **bundle}
