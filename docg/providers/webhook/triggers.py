"""The generic webhook trigger: a POST to /hooks/{workflow_id}/{secret} starts a run."""

from django.utils.translation import gettext_lazy as _

from docg.connectors.registry import App, Operation, register

app = register(App(slug="webhook", name="Webhook", description=_("Start a run from an HTTP request.")))

app.trigger(
    Operation(
        name="catch_hook",
        label=_("Catch a webhook"),
        description=_("The request's JSON body becomes the trigger output."),
        parameters={
            "type": "object",
            "properties": {
                "hmac_header": {
                    "type": "string",
                    "title": _("HMAC header"),
                    "description": _("Header carrying an HMAC-SHA256 of the body."),
                },
                "idempotency_field": {
                    "type": "string",
                    "title": _("Idempotency field"),
                    "description": _("Body field that identifies a delivery."),
                },
                "require_timestamp": {
                    "type": "boolean",
                    "title": _("Require a timestamp"),
                    "description": _(
                        "Refuse signed deliveries without X-Docg-Timestamp (unix seconds); "
                        'the signature then covers "{timestamp}.{body}" and must be under 5 minutes old.'
                    ),
                },
            },
            "additionalProperties": False,
            # A timestamp proves nothing unless it is signed.
            "dependentRequired": {"require_timestamp": ["hmac_header"]},
        },
    )
)
