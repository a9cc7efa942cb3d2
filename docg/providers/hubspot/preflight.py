"""What the HubSpot triggers add to preflight: a deal, contact or company event whose record could not be read.

The worker fetches the deal before the run starts (actors.py). When HubSpot
refuses for good (the connection expired even after a token refresh, a scope is
missing, the deal was deleted), the run still starts, so the business user sees
it, with trigger data {event, raw_event, enrichment_error: {code,
message_human, details_tech}}; this hook blocks it with that code, which puts
the run in needs_review with its recommended action (oauth_expired →
reconnect_provider, hubspot.insufficient_permissions → fix_permissions).

Resuming does not fetch the deal again: the run's data is what the event
carried, and preflight would keep blocking. The message says so: after the
fix, the deal's next change in HubSpot starts a new run, or "Run again with
changed data" starts one with the deal's fields typed in.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from docg.common.errors import translated
from docg.providers.preflight_checks import blocking_issue

# How the permanent HubSpot codes read in the run's report, and which domain they belong to.
_DOMAIN = {"oauth_expired": "permissions", "hubspot.insufficient_permissions": "permissions"}

# Each sentence whole per object type, so a translation never has to guess at "%(object)s".
_UNREADABLE = {
    "deal": _("docg could not read deal %(deal_id)s from HubSpot, so this run has no deal data."),
    "contact": _("docg could not read contact %(record_id)s from HubSpot, so this run has no contact data."),
    "company": _("docg could not read company %(record_id)s from HubSpot, so this run has no company data."),
}
_GONE = {
    "deal": _("The deal was probably deleted or merged in HubSpot; nothing needs fixing in docg."),
    "contact": _("The contact was probably deleted or merged in HubSpot; nothing needs fixing in docg."),
    "company": _("The company was probably deleted or merged in HubSpot; nothing needs fixing in docg."),
}
_THEN = {
    "deal": _(
        "Resuming this run does not read the deal again: once fixed, the deal's next change in "
        'HubSpot starts a new run, or use "Run again with changed data" and type in the deal\'s '
        "fields."
    ),
    "contact": _(
        "Resuming this run does not read the contact again: once fixed, the contact's next change in "
        'HubSpot starts a new run, or use "Run again with changed data" and type in the contact\'s '
        "fields."
    ),
    "company": _(
        "Resuming this run does not read the company again: once fixed, the company's next change in "
        'HubSpot starts a new run, or use "Run again with changed data" and type in the company\'s '
        "fields."
    ),
}


def _object_type(node: dict, event: dict) -> str:
    """What the run's record is: the event's subscription type says it, else the trigger's operation."""
    prefix = str(event.get("subscription_type") or "").split(".", 1)[0]
    if prefix in _UNREADABLE:
        return prefix
    operation = str(node.get("operation") or "")
    return next((kind for kind in _UNREADABLE if operation == f"{kind}_event"), "deal")


def _fix(code: str, kind: str, language: str) -> str:
    if code == "oauth_expired":
        return translated(_("Reconnect HubSpot on the connections page."), language)
    if code == "hubspot.insufficient_permissions":
        return translated(_("Reconnect HubSpot and allow every permission docg asks for."), language)
    if code == "hubspot.not_found":
        return translated(_GONE[kind], language)
    return ""


def deal_event_preflight(*, node: dict, organization: Any, trigger_data: dict, language: str) -> list[dict]:
    """Block a run whose deal, contact or company HubSpot refused to give, with HubSpot's reason and the fix."""
    error = trigger_data.get("enrichment_error") if isinstance(trigger_data, dict) else None
    if not isinstance(error, dict) or not error.get("code"):
        return []
    code = str(error["code"])
    event = trigger_data.get("event") if isinstance(trigger_data.get("event"), dict) else {}
    kind = _object_type(node, event)
    record_id = event.get("object_id") or ""
    # The deal's sentence keeps its older placeholder name (its translations exist already).
    reason = translated(_UNREADABLE[kind], language, deal_id=record_id, record_id=record_id)
    then = translated(_THEN[kind], language)
    message = " ".join(
        p for p in (reason, str(error.get("message_human") or ""), _fix(code, kind, language), then) if p
    )
    return [
        blocking_issue(
            code=code,
            domain=_DOMAIN.get(code, "data"),
            node=node,
            message=message,
            tech={"enrichment_error": error.get("details_tech") or {}, "connection": node.get("connection")},
            # The steps' fields are all missing for this one reason: preflight lists no map_fields for them.
            trigger_data_unusable=True,
        )
    ]
