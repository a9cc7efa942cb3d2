"""What the core actions do. Declarations (names, schemas) are in actions.py."""

import json

import httpx

from docg.common.errors import DocgError
from docg.common.ssrf import BlockedAddress, guarded_request
from docg.connectors.runtime import ActionContext, ActionResult
from docg.workflows.expressions import evaluate, render_string

MAX_RESPONSE_BYTES = 256 * 1024


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "no", "none", "null")
    return bool(value)


def _condition(source: str, context: dict):
    # A branch's `when` is a bare expression ("trigger.amount > 1000") or a template ("{{ … }}").
    if "{{" in source or "{%" in source:
        return render_string(source, context)
    return evaluate(source, context)


def branch(ctx: ActionContext, params: dict) -> ActionResult:
    node = ctx.node
    for index, option in enumerate(node.get("branches") or []):
        if _truthy(_condition(option["when"], ctx.expression_context)):
            return ActionResult(output={"branch": index, "next": option["next"]}, next=option["next"])
    # No branch matched: `else`, or (with no else) the node's default successor.
    fallback = node.get("else") or None
    return ActionResult(output={"branch": "else", "next": fallback}, next=fallback)


def filter_(ctx: ActionContext, params: dict) -> ActionResult:
    passed = _truthy(params["condition"])
    return ActionResult(output={"passed": passed}, stop=not passed)


def delay(ctx: ActionContext, params: dict) -> ActionResult:
    return ActionResult(output={"seconds": params["seconds"]}, delay_seconds=int(params["seconds"]))


def set_variables(ctx: ActionContext, params: dict) -> ActionResult:
    return ActionResult(output=dict(params["variables"]))


def approval(ctx: ActionContext, params: dict) -> ActionResult:
    return ActionResult(
        output={"message": params["message"], "approvers": params.get("approvers", [])}, wait="approval"
    )


def datastore_get(ctx: ActionContext, params: dict) -> ActionResult:
    from docg.workflows.models import WorkflowDatastore

    row = WorkflowDatastore.objects.filter(workflow_id=ctx.execution.workflow_id, key=params["key"]).first()
    return ActionResult(output={"key": params["key"], "found": row is not None, "value": row.value if row else None})


def datastore_set(ctx: ActionContext, params: dict) -> ActionResult:
    from docg.workflows.models import WorkflowDatastore

    if ctx.dry_run:
        return ActionResult(output={"key": params["key"], "value": params["value"], "dry_run": True})
    WorkflowDatastore.objects.update_or_create(
        workflow_id=ctx.execution.workflow_id,
        key=params["key"],
        defaults={"value": params["value"], "organization_id": ctx.execution.organization_id},
    )
    # Later inline steps of the same chain share this context: keep `datastore` current.
    ctx.expression_context.setdefault("datastore", {})[params["key"]] = params["value"]
    return ActionResult(output={"key": params["key"], "value": params["value"]})


def http_request(ctx: ActionContext, params: dict) -> ActionResult:
    method, url = params["method"].upper(), params["url"]
    headers = {**(params.get("headers") or {}), **ctx.outgoing_headers}
    body = params.get("body")
    if ctx.dry_run:
        return ActionResult(output={"dry_run": True, "request": {"method": method, "url": url, "body": body}})
    kwargs: dict = {"headers": headers}
    if body is not None:
        kwargs["content" if isinstance(body, str) else "json"] = body
    try:
        response = guarded_request(method, url, timeout=float(params.get("timeout") or 10), **kwargs)
    except BlockedAddress as exc:
        raise DocgError("http.blocked_address", str(exc), {"url": url}, human="")
    except httpx.TimeoutException as exc:
        raise DocgError("http.timeout", str(exc), {"url": url}, transient=True, human="")
    except httpx.HTTPError as exc:
        raise DocgError("http.error", f"{type(exc).__name__}: {exc}", {"url": url}, transient=True, human="")
    text = response.content[:MAX_RESPONSE_BYTES].decode(response.encoding or "utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        parsed = text
    output = {"status": response.status_code, "headers": dict(response.headers), "body": parsed}
    if response.status_code == 429:
        raise DocgError("rate_limit", "HTTP 429", {"response": output}, transient=True, human="")
    if response.status_code >= 500:
        raise DocgError("http.error", f"HTTP {response.status_code}", {"response": output}, transient=True, human="")
    if response.status_code >= 400:
        raise DocgError("http.error", f"HTTP {response.status_code}", {"response": output}, human="")
    return ActionResult(output=output)


def fail(ctx: ActionContext, params: dict) -> ActionResult:
    raise DocgError(
        params["code"],
        params.get("message") or "Failed on purpose.",
        {"parameters": params},
        transient=bool(params.get("transient")),
        human=params.get("message") or "",
    )
