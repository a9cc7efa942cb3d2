"""The built-in `core` app: flow control and utilities that need no external service."""

from django.utils.translation import gettext_lazy as _

from docg.connectors.core import handlers
from docg.connectors.registry import App, Operation, register

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
            "properties": {"condition": {"description": _("A value or a {{ expression }}; false stops the run.")}},
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
            "properties": {"seconds": {"type": "integer", "minimum": 1, "maximum": 30 * 24 * 3600}},
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
            "properties": {"variables": {"type": "object", "additionalProperties": True}},
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
                "message": {"type": "string", "minLength": 1},
                "approvers": {"type": "array", "items": {"type": "string", "format": "email"}},
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
            "properties": {"key": {"type": "string", "minLength": 1, "maxLength": 200}},
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
            "properties": {"key": {"type": "string", "minLength": 1, "maxLength": 200}, "value": {}},
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
                "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                "url": {"type": "string", "minLength": 1},
                "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                "body": {},
                "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
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
                "code": {"type": "string", "minLength": 1},
                "message": {"type": "string"},
                "transient": {"type": "boolean"},
            },
            "required": ["code"],
            "additionalProperties": False,
        },
    )
)
