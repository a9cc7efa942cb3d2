"""Step errors with a human message in the organization's language, and the fix we recommend."""

import traceback
from dataclasses import dataclass, field
from typing import Any

from docg.connectors.errors import ConnectorError

# code → (English, Brazilian Portuguese). `{detail}` is filled from the error.
HUMAN = {
    "expression.failed": (
        "A value in step '{node}' could not be computed: {detail}",
        "Um valor da etapa '{node}' não pôde ser calculado: {detail}",
    ),
    "data.unresolved_variables": (
        "Some fields this workflow needs are missing from the data: {detail}",
        "Alguns campos de que este fluxo precisa não vieram nos dados: {detail}",
    ),
    "parameters.invalid": (
        "Step '{node}' received invalid settings: {detail}",
        "A etapa '{node}' recebeu configurações inválidas: {detail}",
    ),
    "action.unknown": (
        "Step '{node}' uses an action docg does not know ({detail}).",
        "A etapa '{node}' usa uma ação que o docg não conhece ({detail}).",
    ),
    "http.blocked_address": (
        "Step '{node}' tried to call an address that is not allowed: {detail}",
        "A etapa '{node}' tentou chamar um endereço não permitido: {detail}",
    ),
    "http.timeout": (
        "The server called by step '{node}' did not answer in time.",
        "O servidor chamado pela etapa '{node}' não respondeu a tempo.",
    ),
    "http.error": (
        "The server called by step '{node}' answered with an error: {detail}",
        "O servidor chamado pela etapa '{node}' respondeu com erro: {detail}",
    ),
    "connection.inactive": (
        "The connection used by step '{node}' is not active: {detail}",
        "A conexão usada pela etapa '{node}' não está ativa: {detail}",
    ),
    "oauth_expired": (
        "The connection used by step '{node}' has expired: reconnect it.",
        "A conexão usada pela etapa '{node}' expirou: conecte de novo.",
    ),
    "rate_limit": (
        "The provider is limiting requests; docg will try again later.",
        "O provedor está limitando as requisições; o docg tentará de novo mais tarde.",
    ),
    "step.abandoned": (
        "Step '{node}' was given up after the worker running it stopped {detail} times.",
        "A etapa '{node}' foi abandonada depois que o worker que a executava parou {detail} vezes.",
    ),
    "internal": (
        "Step '{node}' failed unexpectedly. The technical details say why.",
        "A etapa '{node}' falhou de forma inesperada. Os detalhes técnicos dizem o porquê.",
    ),
}


def human_message(code: str, *, language: str, node: str = "", detail: str = "", fallback: str = "") -> str:
    pair = HUMAN.get(code)
    if pair is None:
        return fallback or detail or code
    template = pair[1] if (language or "").lower().startswith("pt") else pair[0]
    return template.format(node=node, detail=detail)


@dataclass
class StepError(Exception):
    """A step failed. `transient` errors are retried with backoff; the others fail the step."""

    code: str
    detail: str = ""
    tech: dict[str, Any] = field(default_factory=dict)
    transient: bool = False
    human: str = ""

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


def as_step_error(exc: BaseException) -> StepError:
    """Any exception from an action, classified; unknown exceptions are permanent `internal` errors."""
    if isinstance(exc, StepError):
        if not exc.tech.get("traceback"):
            exc.tech = {**exc.tech, "exception": type(exc).__name__}
        return exc
    tech = {
        "exception": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc))[-8000:],
    }
    if isinstance(exc, ConnectorError):
        return StepError(
            exc.code, exc.message_human, {**tech, **exc.details_tech}, transient=exc.transient, human=exc.message_human
        )
    return StepError("internal", str(exc), tech)


# PRODUCT.md section 5: what we recommend for each error or preflight code.
ACTIONS = {
    "drive.insufficient_permissions": ("fix_permissions", "Fix permissions", "Give docg access to the file or folder."),
    "hubspot.insufficient_permissions": ("fix_permissions", "Fix permissions", "Reconnect, allowing all scopes."),
    "microsoft.insufficient_permissions": ("fix_permissions", "Fix permissions", "Grant docg the permissions it asks."),
    "oauth_expired": ("reconnect_provider", "Reconnect", "Sign in to the provider again to renew the connection."),
    "connection.inactive": ("reconnect_provider", "Reconnect", "Reconnect or replace the connection."),
    "rate_limit": ("retry_later", "Retry later", "Run this execution again in a few minutes."),
    "data.unresolved_variables": ("map_fields", "Map fields", "Provide the missing fields, then resume."),
    "template.not_found": ("select_template", "Choose a template", "Pick the template this step should use."),
}


# The same fixes when no run exists yet (preflight): there is nothing to resume or retry, only a run to start.
BEFORE_A_RUN = {
    "map_fields": "Add the missing fields to the trigger data, then start the run.",
    "retry_later": "Start the run again in a few minutes.",
}


def recommended_action(
    code: str, *, execution_id: Any, node_key: str = "", workflow_id: Any = None
) -> dict[str, Any] | None:
    """The fix for `code`; before a run exists (preflight, `execution_id` None) the run-bound fixes start one."""
    entry = ACTIONS.get(code)
    if entry is None:
        return None
    action, label, description = entry
    endpoints = {
        "map_fields": f"/api/v1/executions/{execution_id}/resume",
        "retry_later": f"/api/v1/executions/{execution_id}/retry",
        "reconnect_provider": "/api/v1/connections",
        "fix_permissions": "/api/v1/connections",
        "select_template": "/api/v1/templates",
    }
    if execution_id is None:
        start = f"/api/v1/workflows/{workflow_id}/executions"
        endpoints.update(map_fields=start, retry_later=start)
        description = BEFORE_A_RUN.get(action, description)
    return {
        "action": action,
        "label": label,
        "description": description,
        "code": code,
        "node_key": node_key,
        "endpoint": endpoints[action],
    }
