"""The built-in `core` app: flow control and utilities that need no external service."""

from django.utils.translation import gettext_lazy as _

from docg.connectors.registry import App, Operation, register
from docg.providers.core import handlers

app = register(App(slug="core", name="docg core", description=_("Flow control and utilities built into docg.")))

app.action(
    Operation(
        name="branch",
        inline=True,
        handler=handlers.branch,
        label=_("Branch"),
        description=_("Follow the first branch whose condition is true, else the node's `else` target."),
        parameters={"type": "object", "properties": {}, "additionalProperties": False},
    )
)
app.action(
    Operation(
        name="filter",
        inline=True,
        handler=handlers.filter_,
        label=_("Filter"),
        description=_("Stop the run quietly when the condition is false."),
        parameters={
            "type": "object",
            # Any type: "{{ trigger.amount > 100 }}" renders to a native boolean.
            "properties": {
                "condition": {
                    "title": _("Condition"),
                    "description": _("A value or a {{ expression }}; false stops the run."),
                }
            },
            "required": ["condition"],
            "additionalProperties": False,
        },
    )
)
app.action(
    Operation(
        name="delay",
        inline=True,
        handler=handlers.delay,
        label=_("Delay"),
        description=_("Wait a number of seconds before the next step."),
        parameters={
            "type": "object",
            "properties": {
                "seconds": {"type": "integer", "minimum": 1, "maximum": 30 * 24 * 3600, "title": _("Seconds")}
            },
            "required": ["seconds"],
            "additionalProperties": False,
        },
    )
)
app.action(
    Operation(
        name="set_variables",
        inline=True,
        handler=handlers.set_variables,
        label=_("Set variables"),
        description=_("Compute named values from expressions; later steps read them as steps.<key>."),
        parameters={
            "type": "object",
            "properties": {"variables": {"type": "object", "additionalProperties": True, "title": _("Variables")}},
            "required": ["variables"],
            "additionalProperties": False,
        },
    )
)
app.action(
    Operation(
        name="approval",
        inline=True,
        handler=handlers.approval,
        label=_("Approval"),
        description=_("Pause the run until a person approves or rejects it."),
        queue="approvals",
        parameters={
            "type": "object",
            "properties": {
                "message": {"type": "string", "minLength": 1, "title": _("Message")},
                "approvers": {"type": "array", "items": {"type": "string", "format": "email"}, "title": _("Approvers")},
            },
            "required": ["message"],
            "additionalProperties": False,
        },
    )
)
app.action(
    Operation(
        name="datastore_get",
        inline=True,
        handler=handlers.datastore_get,
        label=_("Read from datastore"),
        parameters={
            "type": "object",
            "properties": {"key": {"type": "string", "minLength": 1, "maxLength": 200, "title": _("Key")}},
            "required": ["key"],
            "additionalProperties": False,
        },
    )
)
app.action(
    Operation(
        name="datastore_set",
        inline=True,
        writes=True,
        handler=handlers.datastore_set,
        label=_("Write to datastore"),
        parameters={
            "type": "object",
            "properties": {
                "key": {"type": "string", "minLength": 1, "maxLength": 200, "title": _("Key")},
                "value": {"title": _("Value")},
            },
            "required": ["key", "value"],
            "additionalProperties": False,
        },
    )
)
app.action(
    Operation(
        name="http_request",
        handler=handlers.http_request,
        label=_("HTTP request"),
        description=_("Call an external URL (private and loopback addresses are refused)."),
        queue="webhooks",
        parameters={
            "type": "object",
            "properties": {
                "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"], "title": _("Method")},
                "url": {"type": "string", "minLength": 1, "title": _("URL")},
                "headers": {"type": "object", "additionalProperties": {"type": "string"}, "title": _("Headers")},
                "body": {"title": _("Body")},
                "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 60, "title": _("Timeout (seconds)")},
            },
            "required": ["method", "url"],
            "additionalProperties": False,
        },
    )
)
app.action(
    Operation(
        name="fail",
        inline=True,
        handler=handlers.fail,
        max_attempts=3,
        label=_("Fail"),
        description=_("Raise a chosen error (for tests and runbooks)."),
        parameters={
            "type": "object",
            "properties": {
                "code": {"type": "string", "minLength": 1, "title": _("Error code")},
                "message": {"type": "string", "title": _("Message")},
                "transient": {"type": "boolean", "title": _("Transient error")},
            },
            "required": ["code"],
            "additionalProperties": False,
        },
    )
)
