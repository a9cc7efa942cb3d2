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
# The record triggers: which operation listens to which object's events (HubSpot's subscription prefixes).
OPERATIONS = {"deal": "deal_event", "contact": "contact_event", "company": "company_event"}
RECORD_SUBSCRIPTION_TYPES = {
    "contact": ["contact.creation", "contact.propertyChange"],
    "company": ["company.creation", "company.propertyChange"],
}
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


def event_object(event: dict[str, Any]) -> str:
    """ "deal", "contact" or "company": what the event is about ("" for anything else)."""
    prefix = str(event.get("subscriptionType") or "").split(".", 1)[0]
    return prefix if prefix in OPERATIONS else ""


def event_matches(parameters: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether the event (before fetching the record) is one this trigger listens to."""
    kind = event_object(event)
    defaults = SUBSCRIPTION_TYPES if kind == "deal" else RECORD_SUBSCRIPTION_TYPES.get(kind, [])
    kinds = parameters.get("subscription_types") or defaults
    if event.get("subscriptionType") not in kinds:
        return False
    names = parameters.get("property_names") or []
    if str(event.get("subscriptionType")).endswith(".propertyChange") and names:
        return event.get("propertyName") in names
    return True


def deal_matches(parameters: dict[str, Any], deal: dict[str, Any] | None) -> bool:
    """The pipeline / stage filters, on the fetched deal (a contact or company event has none to judge)."""
    if deal is None:
        return True
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


def fetch_record_bundle(
    *, connection: Any, object_type: str, record_id: str, parameters: dict[str, Any], correlation_id: str = ""
) -> dict[str, Any]:
    """A contact (with its companies and deals) or a company (with its contacts and deals)."""
    client = HubSpotClient(connection, correlation_id=correlation_id)
    own = CONTACT_PROPERTIES if object_type == "contacts" else COMPANY_PROPERTIES
    properties = list(dict.fromkeys(own + list(parameters.get("extra_properties") or [])))
    record = _object(client.get_object(object_type, record_id, properties=properties))
    key = "contact" if object_type == "contacts" else "company"
    bundle: dict[str, Any] = {key: record}
    others = (("companies", COMPANY_PROPERTIES),) if object_type == "contacts" else (("contacts", CONTACT_PROPERTIES),)
    for to_type, wanted in (*others, ("deals", DEAL_PROPERTIES)):
        ids = client.associated_ids(object_type, record["id"] or record_id, to_type)
        bundle[to_type] = [_object(r) for r in client.batch_read(to_type, ids, properties=wanted)] if ids else []
    if object_type == "contacts":
        bundle["company"] = bundle["companies"][0] if bundle["companies"] else None
    return bundle


def trigger_data_for(
    *, connection: Any, event: dict[str, Any], parameters: dict[str, Any], correlation_id: str = ""
) -> dict[str, Any]:
    kind = event_object(event)
    if kind in ("contact", "company"):
        bundle = fetch_record_bundle(
            connection=connection,
            object_type="contacts" if kind == "contact" else "companies",
            record_id=str(event["objectId"]),
            parameters=parameters,
            correlation_id=correlation_id,
        )
    else:
        bundle = fetch_deal_bundle(
            connection=connection, deal_id=str(event["objectId"]), parameters=parameters, correlation_id=correlation_id
        )
    return {"event": event_summary(event), **bundle}
