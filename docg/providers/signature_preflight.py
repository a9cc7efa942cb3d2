"""The `signature` domain of preflight, shared by the e-signature actions (ClickSign, ZapSign).

Before anything is rendered or sent: a connection of the right provider is chosen
and active, the signer list is not empty once expressions are resolved, every
signer has a name and a valid e-mail, and the document to sign comes from an
earlier step (or is a document the organization already has). Values only a
later step produces are checked when the step runs (esign_flow.clean_signers).
Every issue names a recommended action that fixes it (docg.executions.errors).
"""

import re
import uuid
from typing import Any

from django.utils.translation import gettext_lazy as _

from docg.common.errors import translated
from docg.connectors.choices import ConnectionStatus
from docg.documents.models import GeneratedDocument
from docg.providers.preflight_checks import (
    UNKNOWN,
    blocking_issue,
    chosen_connection,
    node_label,
    resolve_now,
)
from docg.workflows.expressions import referenced_paths

# The same rule the e-mail actions apply, kept simple: something@domain.tld, no spaces.
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _signer_issues(node: dict, organization: Any, trigger_data: dict, language: str) -> list[dict]:
    params = node.get("parameters") or {}
    signers = params.get("signers")
    label = node_label(node)
    resolved, bad = [], []
    for index, signer in enumerate(signers if isinstance(signers, list) else []):
        signer = signer if isinstance(signer, dict) else {}
        name = resolve_now(value=signer.get("name", ""), organization=organization, trigger_data=trigger_data)
        email = resolve_now(value=signer.get("email", ""), organization=organization, trigger_data=trigger_data)
        if name is UNKNOWN or email is UNKNOWN:
            resolved.append(None)  # an earlier step decides it: checked when the step runs
            continue
        name, email = " ".join(str(name or "").split()), str(email or "").strip()
        if not (name or email):
            continue  # an expression that resolved to nothing: no signer
        resolved.append(email)
        if not name or not _EMAIL.match(email):
            bad.append({"index": index, "name": name, "email": email})
    issues = []
    if not resolved:
        message = translated(_("Step '%(label)s' has nobody to sign: add at least one signer."), language, label=label)
        issues.append(
            blocking_issue(
                code="signature.no_signers",
                domain="signature",
                node=node,
                message=message,
                tech={"signers": signers},
                location={"node_key": node.get("key", ""), "parameters": ["signers"]},
            )
        )
    for signer in bad:
        shown = f"{signer['name'] or '?'} <{signer['email'] or '?'}>"
        message = translated(
            _("Signer %(number)s of step '%(label)s' needs a name and a valid e-mail: %(shown)s."),
            language,
            number=signer["index"] + 1,
            label=label,
            shown=shown,
        )
        issues.append(
            blocking_issue(
                code="signature.invalid_signer",
                domain="signature",
                node=node,
                message=message,
                tech=signer,
                location={"node_key": node.get("key", ""), "parameters": [f"signers[{signer['index']}]"]},
            )
        )
    return issues


def _document_issue(node: dict, organization: Any, language: str, earlier_steps: list[str] | None) -> dict | None:
    value = (node.get("parameters") or {}).get("document_id")
    text = str(value or "").strip()
    label = node_label(node)
    problem = ""
    if not text:
        problem = "empty"
    elif "{{" in text or "{%" in text:
        steps = {p.split(".")[1] for p in referenced_paths(text) if p.startswith("steps.") and p.count(".") >= 1}
        if not steps:
            problem = "not_a_step"
        elif earlier_steps is not None and not steps <= set(earlier_steps):
            problem = "later_step"
    else:
        try:
            key = uuid.UUID(text)
        except ValueError:
            key = None
        if key is None or not GeneratedDocument.objects.filter(organization=organization, pk=key).exists():
            problem = "unknown_document"
    if not problem:
        return None
    message = translated(
        _("Step '%(label)s' must sign a document made by an earlier step: choose that step's document."),
        language,
        label=label,
    )
    return blocking_issue(
        code="signature.document_missing",
        domain="signature",
        node=node,
        message=message,
        tech={"document_id": value, "problem": problem, "earlier_steps": earlier_steps},
        location={"node_key": node.get("key", ""), "parameters": ["document_id"]},
    )


def signature_preflight(*, provider: str, name: str):
    """The preflight hook of an e-signature action for `provider` (its people-facing `name`)."""

    def hook(
        *, node: dict, organization: Any, trigger_data: dict, language: str, earlier_steps: list[str] | None = None
    ) -> list[dict]:
        issues, connection = chosen_connection(
            node=node,
            organization=organization,
            provider=provider,
            name=name,
            language=language,
            only_active=False,
        )
        for issue in issues:
            issue["domain"] = "signature"
        if connection is not None and connection.status != ConnectionStatus.ACTIVE:
            # The generic check reports it under permissions; the signature domain says what it stops.
            message = translated(
                _(
                    "The %(name)s connection '%(connection_name)s' is %(connection_status)s: reconnect it to "
                    "send step '%(label_)s' for signature."
                ),
                language,
                name=name,
                connection_name=connection.name,
                connection_status=connection.status,
                label_=node_label(node),
            )
            issues.append(
                blocking_issue(
                    code="connection.inactive",
                    domain="signature",
                    node=node,
                    message=message,
                    tech={"connection": str(connection.pk), "status": connection.status},
                )
            )
        issues += _signer_issues(node, organization, trigger_data, language)
        document = _document_issue(node, organization, language, earlier_steps)
        return issues + ([document] if document else [])

    # docg.executions.preflight passes the keys of the steps before this one to hooks that ask.
    hook.wants = ("earlier_steps",)  # type: ignore[attr-defined]
    return hook
