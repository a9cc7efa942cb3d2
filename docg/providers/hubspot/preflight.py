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

from docg.providers.preflight_checks import blocking_issue, say

# How the permanent HubSpot codes read in the run's report, and which domain they belong to.
_DOMAIN = {"oauth_expired": "permissions", "hubspot.insufficient_permissions": "permissions"}


def _fix(code: str, language: str) -> str:
    if code == "oauth_expired":
        return say(
            language=language,
            en="Reconnect HubSpot on the connections page.",
            pt="Conecte o HubSpot de novo na página de conexões.",
        )
    if code == "hubspot.insufficient_permissions":
        return say(
            language=language,
            en="Reconnect HubSpot and allow every permission docg asks for.",
            pt="Conecte o HubSpot de novo e permita todas as permissões que o docg pede.",
        )
    if code == "hubspot.not_found":
        return say(
            language=language,
            en="The deal was probably deleted or merged in HubSpot; nothing needs fixing in docg.",
            pt="O negócio provavelmente foi excluído ou mesclado no HubSpot; não há nada a corrigir no docg.",
        )
    return ""


def deal_event_preflight(*, node: dict, organization: Any, trigger_data: dict, language: str) -> list[dict]:
    """Block a run whose deal HubSpot refused to give, with HubSpot's reason and how to fix it."""
    error = trigger_data.get("enrichment_error") if isinstance(trigger_data, dict) else None
    if not isinstance(error, dict) or not error.get("code"):
        return []
    code = str(error["code"])
    deal_id = ((trigger_data.get("event") or {}).get("object_id")) or ""
    reason = say(
        language=language,
        en=f"docg could not read deal {deal_id} from HubSpot, so this run has no deal data.",
        pt=f"O docg não conseguiu ler o negócio {deal_id} no HubSpot; esta execução não tem os dados do negócio.",
    )
    then = say(
        language=language,
        en="Resuming this run does not read the deal again: once fixed, the deal's next change in HubSpot "
        'starts a new run, or use "Run again with changed data" and type in the deal\'s fields.',
        pt="Retomar esta execução não lê o negócio de novo: depois de corrigir, a próxima alteração do negócio "
        'no HubSpot inicia uma nova execução, ou use "Executar novamente com outros dados" e informe os '
        "campos do negócio.",
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
