"""The `ai` app: extract or summarise fields with an OpenAI-compatible model, answers checked against a schema."""

from django.utils.translation import gettext_lazy as _

from docg.connectors.choices import AuthKind
from docg.connectors.registry import App, Operation, register
from docg.connectors.schemas import parameters_schema
from docg.providers.ai import handlers
from docg.providers.ai.checks import ai_check
from docg.providers.ai.preflight import extract_preflight

app = register(
    App(
        slug="ai",
        name=_("AI (OpenAI-compatible)"),
        description=_("Ask an OpenAI-compatible model for structured data that follows a JSON schema."),
        auth=AuthKind.API_KEY,
        checker=ai_check,
    )
)

app.action(
    Operation(
        name="extract",
        handler=handlers.extract,
        preflight=extract_preflight,
        label=_("Extract with AI"),
        description=_("Extract or summarise fields from the input; the answer must validate against the schema."),
        queue="webhooks",
        max_attempts=4,
        timeout_seconds=int(2 * handlers.AI_TIMEOUT_SECONDS) + 30,
        parameters=parameters_schema(
            properties={
                "instructions": {
                    "type": "string",
                    "minLength": 1,
                    "title": _("Instructions"),
                    "description": _("What to extract or summarise."),
                },
                "input": {
                    "title": _("Input"),
                    "description": _("The text or data to read; anything but a string is sent as JSON."),
                },
                "schema": {
                    "type": "object",
                    "title": _("Answer schema"),
                    "description": _("The JSON schema the answer must follow."),
                },
                "model": {
                    "type": "string",
                    "title": _("AI model"),
                    "description": _("Overrides the connection's model."),
                },
            },
            required=["instructions", "input", "schema"],
        ),
        output={"type": "object", "description": _("The model's answer, validated against `schema`.")},
    )
)
