"""The HubSpot app: a deal event (created, property changed) starts a run with the deal and its associations.

What an event is and the deal it becomes are in deals.py; webhooks.py queues
each event and actors.py starts its run.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from docg.connectors.choices import AuthKind
from docg.connectors.registry import App, Operation, register
from docg.providers.hubspot import actors  # noqa: F401 (registers the worker's actor in every process)
from docg.providers.hubspot.deals import OPERATIONS, RECORD_SUBSCRIPTION_TYPES, SUBSCRIPTION_TYPES
from docg.providers.hubspot.preflight import deal_event_preflight

app = register(
    App(
        slug="hubspot",
        name="HubSpot",
        description=_("Start runs from HubSpot deals, with their contacts, company and line items."),
        auth=AuthKind.OAUTH2,
    )
)

_strings = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 200}, "maxItems": 50}

deal_event = app.trigger(
    Operation(
        name="deal_event",
        label=_("Deal created or changed"),
        description=_(
            "A HubSpot deal event (created, or a property changed) starts a run with the deal, "
            "its contacts, company and line items."
        ),
        parameters={
            "type": "object",
            "properties": {
                "subscription_types": {
                    "type": "array",
                    "items": {"enum": SUBSCRIPTION_TYPES},
                    "minItems": 1,
                    "uniqueItems": True,
                    "title": _("Deal events"),
                    "description": _("Which deal events start a run (default: both)."),
                },
                "property_names": {
                    **_strings,
                    "title": _("Changed properties"),
                    "description": _("For deal.propertyChange: only these properties."),
                },
                "pipeline": {
                    "type": "string",
                    "maxLength": 200,
                    "title": _("Pipeline"),
                    "description": _("Only deals in this pipeline (id)."),
                },
                "stages": {
                    **_strings,
                    "title": _("Deal stages"),
                    "description": _("Only deals in one of these stages (ids)."),
                },
                "deal_properties": {
                    **_strings,
                    "title": _("Extra deal properties"),
                    "description": _("More deal properties to fetch."),
                },
            },
            "additionalProperties": False,
        },
        output={
            "type": "object",
            "properties": {
                "event": {"type": "object"},
                "deal": {"type": "object"},
                "contacts": {"type": "array"},
                "company": {"type": ["object", "null"]},
                "companies": {"type": "array"},
                "line_items": {"type": "array"},
            },
        },
        preflight=deal_event_preflight,
    )
)


def _record_trigger(kind: str, label: Any, description: Any, title: Any, output: dict) -> Operation:
    return Operation(
        name=OPERATIONS[kind],
        label=label,
        description=description,
        parameters={
            "type": "object",
            "properties": {
                "subscription_types": {
                    "type": "array",
                    "items": {"enum": RECORD_SUBSCRIPTION_TYPES[kind]},
                    "minItems": 1,
                    "uniqueItems": True,
                    "title": title,
                    "description": _("Which events start a run (default: both)."),
                },
                "property_names": {
                    **_strings,
                    "title": _("Changed properties"),
                    "description": _("For a property change: only these properties."),
                },
                "extra_properties": {
                    **_strings,
                    "title": _("Extra properties"),
                    "description": _("More properties of the record to fetch."),
                },
            },
            "additionalProperties": False,
        },
        output={"type": "object", "properties": {"event": {"type": "object"}, **output}},
        preflight=deal_event_preflight,
    )


contact_event = app.trigger(
    _record_trigger(
        "contact",
        _("Contact created or changed"),
        _(
            "A HubSpot contact event (created, or a property changed) starts a run with the contact, "
            "its companies and deals."
        ),
        _("Contact events"),
        {
            "contact": {"type": "object"},
            "company": {"type": ["object", "null"]},
            "companies": {"type": "array"},
            "deals": {"type": "array"},
        },
    )
)
company_event = app.trigger(
    _record_trigger(
        "company",
        _("Company created or changed"),
        _(
            "A HubSpot company event (created, or a property changed) starts a run with the company, "
            "its contacts and deals."
        ),
        _("Company events"),
        {"company": {"type": "object"}, "contacts": {"type": "array"}, "deals": {"type": "array"}},
    )
)
