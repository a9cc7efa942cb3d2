"""The engine's error codes worded for people (gettext, the organization's language), and the fix we recommend."""

import traceback
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from docg.common.errors import DocgError, translated

# The engine's codes, worded for a business user; `detail` is the error's message.
HUMAN = {
    "expression.failed": _("A value in step '%(node)s' could not be computed: %(detail)s"),
    "data.unresolved_variables": _("Some fields this workflow needs are missing from the data: %(detail)s"),
    "parameters.invalid": _("Step '%(node)s' received invalid settings: %(detail)s"),
    "action.unknown": _("Step '%(node)s' uses an action docg does not know (%(detail)s)."),
    "http.blocked_address": _("Step '%(node)s' tried to call an address that is not allowed: %(detail)s"),
    "http.timeout": _("The server called by step '%(node)s' did not answer in time."),
    "http.error": _("The server called by step '%(node)s' answered with an error: %(detail)s"),
    "connection.inactive": _("The connection used by step '%(node)s' is not active: %(detail)s"),
    "oauth_expired": _("The connection used by step '%(node)s' has expired: reconnect it."),
    "rate_limit": _("The provider is limiting requests; docg will try again later."),
    "step.abandoned": _("Step '%(node)s' was given up after the worker running it stopped %(detail)s times."),
    "internal": _("Step '%(node)s' failed unexpectedly. The technical details say why."),
}


def human_message(code: str, *, language: str, node: str = "", detail: str = "", fallback: str = "") -> str:
    template = HUMAN.get(code)
    if template is None:
        return fallback or detail or code
    return translated(template, language, node=node, detail=detail)


def as_step_error(exc: BaseException) -> DocgError:
    """Any exception from an action, classified; unknown exceptions are permanent `internal` errors."""
    tech = {
        "exception": type(exc).__name__,
        "message": exc.message if isinstance(exc, DocgError) else str(exc),
        "traceback": "".join(traceback.format_exception(exc))[-8000:],
    }
    if isinstance(exc, DocgError):
        exc.details = {**tech, **exc.details}
        return exc
    return DocgError("internal", str(exc), tech, human="")


# PRODUCT.md section 5: what we recommend for each error or preflight code. Stored in English (the run's
# row keeps them); API and dashboard translate them when they show them (docg/executions/api/serializers.py).
ACTIONS = {
    "drive.insufficient_permissions": (
        "fix_permissions",
        gettext_noop("Fix permissions"),
        gettext_noop("Give docg access to the file or folder."),
    ),
    "hubspot.insufficient_permissions": (
        "fix_permissions",
        gettext_noop("Fix permissions"),
        gettext_noop("Reconnect, allowing all scopes."),
    ),
    "microsoft.insufficient_permissions": (
        "fix_permissions",
        gettext_noop("Fix permissions"),
        gettext_noop("Grant docg the permissions it asks."),
    ),
    "oauth_expired": (
        "reconnect_provider",
        gettext_noop("Reconnect"),
        gettext_noop("Sign in to the provider again to renew the connection."),
    ),
    "connection.inactive": (
        "reconnect_provider",
        gettext_noop("Reconnect"),
        gettext_noop("Reconnect or replace the connection."),
    ),
    "rate_limit": (
        "retry_later",
        gettext_noop("Retry later"),
        gettext_noop("Run this execution again in a few minutes."),
    ),
    "data.unresolved_variables": (
        "map_fields",
        gettext_noop("Map fields"),
        gettext_noop("Provide the missing fields, then resume."),
    ),
    "template.not_found": (
        "select_template",
        gettext_noop("Choose a template"),
        gettext_noop("Pick the template this step should use."),
    ),
    "signature.invalid_signer": (
        "edit_step",
        gettext_noop("Fix the signer"),
        gettext_noop("Give every signer a name and a valid e-mail."),
    ),
    "signature.no_signers": (
        "edit_step",
        gettext_noop("Add a signer"),
        gettext_noop("Add at least one signer to the step."),
    ),
    "signature.document_missing": (
        "edit_step",
        gettext_noop("Choose the document"),
        gettext_noop("Sign the document an earlier step makes."),
    ),
    "delivery.folder_missing": (
        "edit_step",
        gettext_noop("Pick another folder"),
        gettext_noop("Choose a folder the connection can write to."),
    ),
    "delivery.sender_not_allowed": (
        "edit_step",
        gettext_noop("Choose an allowed sender"),
        gettext_noop("Send from the connection's own address or one of its aliases."),
    ),
    "delivery.mailbox_missing": (
        "reconnect_provider",
        gettext_noop("Reconnect"),
        gettext_noop("Connect an account that has a mailbox."),
    ),
    "permissions.folder_not_writable": (
        "edit_step",
        gettext_noop("Pick another folder"),
        gettext_noop("Choose a folder docg may write to."),
    ),
    "permissions.file_not_found": (
        "edit_step",
        gettext_noop("Pick another file"),
        gettext_noop("The file is gone or hidden: choose another."),
    ),
    "permissions.file_denied": (
        "fix_permissions",
        gettext_noop("Fix permissions"),
        gettext_noop("Share the file with the connected account."),
    ),
    "permissions.scope_missing": (
        "reconnect_provider",
        gettext_noop("Reconnect"),
        gettext_noop("Reconnect, allowing every permission asked."),
    ),
}


# The same fixes when no run exists yet (preflight): there is nothing to resume or retry, only a run to start.
BEFORE_A_RUN = {
    "map_fields": gettext_noop("Add the missing fields to the trigger data, then start the run."),
    "retry_later": gettext_noop("Start the run again in a few minutes."),
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
        # The step's parameters are the workflow's: PATCH the workflow's definition.
        "edit_step": f"/api/v1/workflows/{workflow_id}" if workflow_id else "/api/v1/workflows",
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
