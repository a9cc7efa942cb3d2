"""What `ai.extract` does. The declaration (name, schema, queue) is in actions.py."""

import json
from typing import Any

from django.utils.translation import gettext_lazy as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match

from docg.common.errors import DocgError
from docg.connectors.choices import Provider
from docg.connectors.runtime import ActionContext, ActionResult
from docg.providers.ai.client import DEFAULT_TIMEOUT_SECONDS, AiClient, ai_error, translate

AI_TIMEOUT_SECONDS = DEFAULT_TIMEOUT_SECONDS


def _client(ctx: ActionContext) -> tuple[AiClient, dict]:
    connection = ctx.active_connection(Provider.AI, "AI")
    config = connection.config or {}
    base_url = str(config.get("base_url") or "").strip()
    api_key = str((connection.credentials or {}).get("api_key") or "").strip()
    if not base_url or not api_key:
        missing = ", ".join(name for name, value in (("base_url", base_url), ("api_key", api_key)) if not value)
        raise DocgError(
            "connection.inactive",
            ctx.say(_("The AI connection is not set up: it has no %(missing)s."), missing=missing),
            {"connection": str(connection.pk), "missing": missing},
        )
    return AiClient(base_url=base_url, api_key=api_key, correlation_id=str(ctx.correlation_id)), config


def input_text(value: Any) -> str:
    """The input as the model reads it: strings as they are, anything else as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _validator(ctx: ActionContext, schema: Any) -> Draft202012Validator:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise DocgError(
            "ai.invalid_schema",
            ctx.say(_("The output schema is not valid: %(message)s"), message=exc.message),
            {"path": list(exc.path)},
        ) from exc
    return Draft202012Validator(schema)


def _check_output(validator: Draft202012Validator, output: Any) -> None:
    error = best_match(validator.iter_errors(output))
    if error is None:
        return
    where = "/".join(str(p) for p in error.absolute_path)
    summary = f"{error.message} (at '{where}')" if where else error.message
    raise ai_error("ai.invalid_output", summary, {"path": where, "validator": error.validator, "output": output})


def extract(ctx: ActionContext, params: dict) -> ActionResult:
    client, config = _client(ctx)
    schema = params["schema"]
    validator = _validator(ctx, schema)
    model = str(params.get("model") or config.get("model") or "").strip()
    if not model:
        raise DocgError(
            "ai.misconfigured",
            ctx.say(_("No AI model is chosen: set one on the step or on the AI connection.")),
            {"connection": str(ctx.connection.pk)},
        )
    if ctx.dry_run:
        return ActionResult(output={"dry_run": True})
    messages = [
        {"role": "system", "content": str(params["instructions"])},
        {"role": "user", "content": input_text(params.get("input"))},
    ]
    try:
        output = client.chat_completion(messages, schema, model, AI_TIMEOUT_SECONDS)
        _check_output(validator, output)
    except DocgError as exc:
        exc.human = translate(exc, ctx.language)
        raise
    # Non-object schemas (a list, a string) still give the step an object output.
    return ActionResult(output=output if isinstance(output, dict) else {"value": output})
