"""What the HubSpot trigger adds to preflight: a deal event whose deal could not be read.

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


def _fix(code: str, language: str) -> str:
    if code == "oauth_expired":
        return translated(_("Reconnect HubSpot on the connections page."), language)
    if code == "hubspot.insufficient_permissions":
        return translated(_("Reconnect HubSpot and allow every permission docg asks for."), language)
    if code == "hubspot.not_found":
        return translated(
            _("The deal was probably deleted or merged in HubSpot; nothing needs fixing in docg."), language
        )
    return ""


def deal_event_preflight(*, node: dict, organization: Any, trigger_data: dict, language: str) -> list[dict]:
    """Block a run whose deal HubSpot refused to give, with HubSpot's reason and how to fix it."""
    error = trigger_data.get("enrichment_error") if isinstance(trigger_data, dict) else None
    if not isinstance(error, dict) or not error.get("code"):
        return []
    code = str(error["code"])
    deal_id = ((trigger_data.get("event") or {}).get("object_id")) or ""
    reason = translated(
        _("docg could not read deal %(deal_id)s from HubSpot, so this run has no deal data."), language, deal_id=deal_id
    )
    then = translated(
        _(
            "Resuming this run does not read the deal again: once fixed, the deal's next change in "
            'HubSpot starts a new run, or use "Run again with changed data" and type in the deal\'s '
            "fields."
        ),
        language,
    )
    message = " ".join(p for p in (reason, str(error.get("message_human") or ""), _fix(code, language), then) if p)
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
