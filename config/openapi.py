"""What API clients read in the OpenAPI document: a summary and a description for every operation, and the
routes served outside Django REST framework (the live event streams, the webhook that starts a run).

A drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]). The words are kept
here, in one table, rather than in each view's docstring: a docstring is written for docg's developers
(tenant scoping, locks), and drf-spectacular would show it to API clients as it is.
"""

from typing import Any

from docg.executions.event_schema import EVENT_SCHEMA_V1

LIST = "Newest first, paginated (`?page=`). Only the organization named by `X-Organization-ID` is seen."
ONE = "A foreign or unknown id answers 404 in the error shape."
WRITE = "Owners, admins and members may call it; viewers get 403."
MANAGE = "Owners and admins only; others get 403."
LOCATIONS = (
    "Each location says where in the file: `part` (body, header, footer, slide, notes), then `slide`, `table`, "
    "`row`, `cell` and `paragraph` numbers, **counted from 1** as the dashboard shows them, plus `text` around it."
)

OPERATIONS: dict[str, tuple[str, str]] = {
    "GET /api/v1/executions/{id}/signatures": (
        "List a run's signature requests",
        "Each request the run sent for signing, with its signers and their state.",
    ),
    "GET /api/v1/signature-requests": ("List signature requests", f"Requests sent for signing by any run. {LIST}"),
    "GET /api/v1/signature-requests/{id}": ("Get a signature request", f"Its provider, document and signers. {ONE}"),
    "POST /api/v1/signature-requests/{id}/remind": (
        "Remind the signers",
        f"Ask the provider to remind the signers who have not signed yet. {WRITE}",
    ),
    "GET /api/v1/api-keys": (
        "List API keys",
        f"Keys for integrations: clients send `Authorization: Api-Key <key>` and no X-Organization-ID. {MANAGE}",
    ),
    "POST /api/v1/api-keys": ("Create an API key", f"The key is shown once, in this answer only. {MANAGE}"),
    "GET /api/v1/api-keys/{id}": ("Get an API key", f"Its name, prefix and last use; never the key. {ONE}"),
    "DELETE /api/v1/api-keys/{id}": ("Revoke an API key", f"Calls with it are refused from now on. {MANAGE}"),
    "GET /api/v1/invitations": ("List invitations", f"Pending invitations by email, valid 7 days. {MANAGE}"),
    "POST /api/v1/invitations": ("Invite someone", f"Emails a link that joins the organization with a role. {MANAGE}"),
    "GET /api/v1/invitations/{id}": ("Get an invitation", f"Its email, role and expiry. {ONE}"),
    "DELETE /api/v1/invitations/{id}": ("Withdraw an invitation", f"Its link stops working. {MANAGE}"),
    "POST /api/v1/invitations/accept": (
        "Accept an invitation",
        "With the token from the invitation email: joins the organization, creating the account if needed.",
    ),
    "GET /api/v1/members": ("List members", "The organization's people and their roles."),
    "GET /api/v1/members/{id}": ("Get a member", f"A person's role in the organization. {ONE}"),
    "PATCH /api/v1/members/{id}": ("Change a member's role", f"{MANAGE}"),
    "DELETE /api/v1/members/{id}": ("Remove a member", "Owners and admins remove anyone; anyone may leave."),
    "POST /api/v1/organizations": ("Create an organization", "A new organization with the caller as its owner."),
    "GET /api/v1/approvals": (
        "List approvals",
        f"Approvals the organization's runs asked for, pending ones first. {LIST}",
    ),
    "GET /api/v1/approvals/{id}": ("Get an approval", f"One approval with its message, approvers and decision. {ONE}"),
    "POST /api/v1/approvals/{id}/decide": (
        "Approve or reject",
        "Decide a pending approval with an optional comment; the run then goes on or fails. When the approval "
        "names approvers, only they may decide (403 `approval.not_an_approver`); otherwise owners and admins.",
    ),
    "GET /api/v1/apps": (
        "List apps",
        "Every app (connector) with its triggers and actions and their parameter "
        "schemas (JSON Schema). The same for every organization.",
    ),
    "GET /api/v1/apps/{slug}": (
        "Get an app",
        "One app's triggers and actions with their parameter and output schemas.",
    ),
    "POST /api/v1/auth/register": ("Create an account and its organization", ""),
    "POST /api/v1/auth/token": (
        "Sign in",
        "Exchange an email and password for a JWT pair: send `Authorization: Bearer <access>` on every call and "
        "renew the access token with the refresh token before it expires.",
    ),
    "POST /api/v1/auth/token/refresh": (
        "Renew the access token",
        "A new access token (and a new refresh token: the old one stops working). A deleted or inactive user gets 401.",
    ),
    "GET /api/v1/billing": (
        "Get plan and usage",
        "The plan, the subscription state and this month's runs against the plan's limit.",
    ),
    "POST /api/v1/billing/checkout": (
        "Start a checkout",
        f"A Stripe Checkout URL to subscribe to a paid plan. {MANAGE}",
    ),
    "POST /api/v1/billing/portal": (
        "Open the billing portal",
        f"A Stripe customer-portal URL to change or cancel the plan. {MANAGE}",
    ),
    "GET /api/v1/bulk-operations": (
        "List bulk operations",
        f"Bulk retries and cancels of runs, with their progress. {LIST}",
    ),
    "GET /api/v1/bulk-operations/{id}": ("Get a bulk operation", f"Its progress and counts per outcome. {ONE}"),
    "POST /api/v1/bulk-operations/{id}/cancel": (
        "Cancel a bulk operation",
        "Stops the items not yet processed; those already done stay done.",
    ),
    "GET /api/v1/bulk-operations/{id}/items": (
        "List a bulk operation's items",
        "Each run the operation touched and what happened to it.",
    ),
    "GET /api/v1/connections": (
        "List connections",
        f"The organization's provider accounts (credentials never shown). {LIST}",
    ),
    "POST /api/v1/connections": ("Add a connection", f"Store a provider credential (encrypted at rest). {WRITE}"),
    "GET /api/v1/connections/{id}": (
        "Get a connection",
        f"Its provider, status and last check; never the secret. {ONE}",
    ),
    "PATCH /api/v1/connections/{id}": ("Change a connection", f"Rename it or replace its credential. {WRITE}"),
    "DELETE /api/v1/connections/{id}": (
        "Revoke a connection",
        f"Steps that use it fail until another is chosen. {WRITE}",
    ),
    "POST /api/v1/connections/{id}/test": (
        "Test a connection",
        "Check the credential against the provider; a refused one marks the connection expired.",
    ),
    "GET /api/v1/documents": ("List documents", f"Documents the organization's runs generated. {LIST}"),
    "GET /api/v1/documents/{id}": ("Get a document", f"Its name, type, size and the run that made it. {ONE}"),
    "GET /api/v1/documents/{id}/download": (
        "Get a download link",
        "A short-lived URL to the file (presigned on S3, signed by docg otherwise); the link itself is the credential.",
    ),
    "GET /api/v1/documents/{id}/file": (
        "Download a file by signed link",
        "The file behind a link from `/download`; no other authentication. An expired or altered link is a 404.",
    ),
    "GET /api/v1/event-deliveries": (
        "List event deliveries",
        f"Each event sent to a subscription's URL, with its status and attempts. {LIST}",
    ),
    "GET /api/v1/event-deliveries/{id}": (
        "Get an event delivery",
        f"The event, the answers received and the next attempt. {ONE}",
    ),
    "POST /api/v1/event-deliveries/{id}/resend": ("Resend an event delivery", "Send the same event again now."),
    "GET /api/v1/event-subscriptions": (
        "List event subscriptions",
        f"URLs that receive the run events (schema v1, component `ExecutionEventV1`), signed. {LIST}",
    ),
    "POST /api/v1/event-subscriptions": (
        "Subscribe a URL to events",
        f"Receive the chosen event types as signed POSTs. {WRITE}",
    ),
    "GET /api/v1/event-subscriptions/{id}": ("Get an event subscription", f"Its URL, event types and state. {ONE}"),
    "PATCH /api/v1/event-subscriptions/{id}": (
        "Change an event subscription",
        f"Its URL, event types or state. {WRITE}",
    ),
    "DELETE /api/v1/event-subscriptions/{id}": ("Delete an event subscription", f"No further events are sent. {WRITE}"),
    "GET /api/v1/executions": ("List runs", f"Runs of every workflow, filterable by status, workflow and date. {LIST}"),
    "GET /api/v1/executions/{id}": (
        "Get a run",
        "Status, progress, current step, errors (human and technical), "
        "the preflight report and the recommended actions, in the client's language "
        f"(Accept-Language). {ONE}",
    ),
    "GET /api/v1/executions/{id}/audit": (
        "Get a run's audit trail",
        "The run's audit events in chain order; the trail cannot be changed.",
    ),
    "POST /api/v1/executions/{id}/cancel": (
        "Cancel a run",
        f"No further step starts; a running step finishes. {WRITE}",
    ),
    "GET /api/v1/executions/{id}/logs": ("Get a run's logs", "Log lines, filterable by level, area and step."),
    "POST /api/v1/executions/{id}/pause": (
        "Pause a run",
        f"The run stops after its current step until resumed. {WRITE}",
    ),
    "GET /api/v1/executions/{id}/preflight": (
        "Get a run's preflight report",
        f"The checks made before the first step: blocking problems, warnings and their fixes. {LOCATIONS}",
    ),
    "POST /api/v1/executions/{id}/resume": (
        "Resume a run",
        f"Continue a paused run or one that needs review, optionally with changed trigger data. {WRITE}",
    ),
    "POST /api/v1/executions/{id}/retry": (
        "Retry a run",
        f"Start a new run with the same data, from the start or from a given step. {WRITE}",
    ),
    "GET /api/v1/executions/{id}/steps": (
        "List a run's steps",
        "Each step attempt with its input, output, timing and error.",
    ),
    "POST /api/v1/executions/{id}/stream-token": (
        "Get a stream token",
        "A short-lived token for the run's event stream, for clients that cannot send headers (a browser's "
        "EventSource): pass it as `?token=` to `/api/v1/sse/executions/{id}/stream`.",
    ),
    "POST /api/v1/executions/bulk": (
        "Retry or cancel runs in bulk",
        "With `dry_run`, the count and a sample of the runs the filter selects; otherwise a bulk operation to follow.",
    ),
    "GET /api/v1/executions/export.csv": ("Export runs as CSV", "The filtered runs, newest first, streamed."),
    "GET /api/v1/executions/search": (
        "Search runs",
        "The runs filters plus a text query over ids, correlation ids and errors.",
    ),
    "GET /api/v1/organizations": (
        "List your organizations",
        "Every organization the caller belongs to, with the caller's role: the ids to send as `X-Organization-ID`.",
    ),
    "GET /api/v1/organizations/{id}": ("Get an organization", f"Its name, language, plan and the caller's role. {ONE}"),
    "PATCH /api/v1/organizations/{id}": ("Change an organization", f"Its name or language. {MANAGE}"),
    "GET /api/v1/retention-policy": ("Get the retention policy", "How long runs, logs and documents are kept."),
    "PUT /api/v1/retention-policy": ("Set the retention policy", f"Older data is purged daily. {MANAGE}"),
    "GET /api/v1/templates": ("List templates", f"The organization's document templates. {LIST}"),
    "POST /api/v1/templates": (
        "Upload a template",
        f"A .docx, .pptx or .xlsx file; its variables and problems are detected at once. {WRITE}",
    ),
    "GET /api/v1/templates/{id}": ("Get a template", f"Its kind, current version, variables and problems. {ONE}"),
    "DELETE /api/v1/templates/{id}": ("Delete a template", f"Steps that use it fail preflight. {WRITE}"),
    "GET /api/v1/templates/{id}/variables": (
        "List a template's variables",
        f"Each input name with where the template reads it. {LOCATIONS}",
    ),
    "GET /api/v1/templates/{id}/versions": ("List a template's versions", "Every uploaded file, newest first."),
    "POST /api/v1/templates/{id}/versions": (
        "Upload a new version",
        f"Replaces the file; runs use the new version from now on. {WRITE}",
    ),
    "GET /api/v1/workflows": ("List workflows", f"With their status and active version. {LIST}"),
    "POST /api/v1/workflows": ("Create a workflow", f"A draft with its steps (nodes); activate it to run it. {WRITE}"),
    "GET /api/v1/workflows/{id}": ("Get a workflow", f"Its steps and status. {ONE}"),
    "PUT /api/v1/workflows/{id}": ("Replace a workflow", f"New name, description and steps. {WRITE}"),
    "PATCH /api/v1/workflows/{id}": ("Change a workflow", f"Some of its fields. {WRITE}"),
    "DELETE /api/v1/workflows/{id}": ("Delete a workflow", f"Past runs stay. {WRITE}"),
    "POST /api/v1/workflows/{id}/activate": (
        "Activate a workflow",
        "Freeze the current steps into a new version "
        "that runs from now on; problems come back as 400 per step and field.",
    ),
    "POST /api/v1/workflows/{id}/deactivate": ("Deactivate a workflow", "No new run starts; the versions stay."),
    "POST /api/v1/workflows/{id}/executions": (
        "Start a run",
        "Start a run of the active version with trigger data; the answer (202) has the run's id to follow, by "
        "polling `/executions/{id}` or on its event stream.",
    ),
    "POST /api/v1/workflows/{id}/preflight": (
        "Check before running",
        f"Check the active version against trigger data without starting a run. {LOCATIONS}",
    ),
    "POST /api/v1/workflows/{id}/restore": ("Restore a version", f"Make an earlier version's steps the draft. {WRITE}"),
    "GET /api/v1/workflows/{id}/runs": ("List a workflow's runs", f"The runs of this workflow. {LIST}"),
    "GET /api/v1/workflows/{id}/versions": ("List a workflow's versions", "Every activated version, newest first."),
    "GET /api/v1/sse/health": (
        "Check the event streams",
        "Whether live events are available and through what (Redis, or embedded mode).",
    ),
}

STREAM_AUTH = (
    "Authentication, one of: `Authorization: Bearer <JWT>` with `X-Organization-ID` (or `?organization=` on the "
    "organization stream); a stream token from `POST /executions/{id}/stream-token` as `?token=` (one run only); "
    "the dashboard's session cookie."
)
STREAM_REPLAY = (
    "Each event is sent as `event: <event_type>`, `id: <epoch>:<entry id>` and `data: <ExecutionEventV1 JSON>`. "
    "On reconnection send the last id received as the `Last-Event-ID` header (or `?last_event_id=`): the events "
    "after it are replayed; when they are no longer kept, a `stream.reset` event carries the current state instead."
)


def _stream(summary: str, description: str, parameters: list[dict]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": summary.lower().replace(" ", "_").replace("'", ""),
            "summary": summary,
            "description": f"{description}\n\n{STREAM_AUTH}\n\n{STREAM_REPLAY}",
            "tags": ["sse"],
            "parameters": [
                *parameters,
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "The id of the last event received; the events after it are replayed.",
                },
                {
                    "name": "last_event_id",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "The same, for clients that cannot set headers.",
                },
                {
                    "name": "token",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "A stream token (POST /executions/{id}/stream-token).",
                },
            ],
            "responses": {
                "200": {
                    "description": "A Server-Sent Events stream of run events (schema v1).",
                    "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/ExecutionEventV1"}}},
                },
                "401": {"description": "Not authenticated, or a stream token for another run."},
                "404": {"description": "No such run in this organization."},
            },
        }
    }


def _event_component() -> dict[str, Any]:
    schema = {k: v for k, v in EVENT_SCHEMA_V1.items() if not k.startswith("$")}
    return {
        **schema,
        "description": "A run event, schema v1: the same on the event streams, in event "
        "subscriptions' POSTs and in the dashboard.",
    }


def _webhook() -> dict[str, Any]:
    return {
        "post": {
            "operationId": "webhook_catch",
            "summary": "Start a run from a webhook",
            "description": (
                "The URL a workflow with the `webhook.catch_hook` trigger shows (its `webhook_url`): any JSON object "
                "POSTed to it starts a run of the active version with that object as trigger data. The secret in "
                "the path is the credential; no other authentication. Answers 202 with the run's id (200 when the "
                "same delivery was already received). GET answers 405 in the error shape."
            ),
            "tags": ["webhooks"],
            "security": [],
            "parameters": [
                {"name": "workflow_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}},
                {"name": "secret", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "202": {"description": "A run was started."},
                "200": {"description": "This delivery had already started a run."},
                "404": {"description": "No such workflow or wrong secret."},
                "409": {"description": "The workflow is not active."},
            },
        }
    }


def document_for_clients(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: client-facing summaries and descriptions, streams and webhook."""
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            words = OPERATIONS.get(f"{method.upper()} {path}")
            if words is None or not isinstance(operation, dict):
                continue
            summary, description = words
            operation["summary"] = summary
            if description:
                operation["description"] = description
    paths = result.setdefault("paths", {})
    paths["/api/v1/sse/executions/{id}/stream"] = _stream(
        "Follow a run's events",
        "The run's events as Server-Sent Events, from its creation (or from `Last-Event-ID`) to its terminal "
        "event, after which the stream ends.",
        [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}],
    )
    paths["/api/v1/sse/stream"] = _stream(
        "Follow the organization's run events",
        "Creation, status and progress events of every run of the organization, as Server-Sent Events. It also "
        "carries `bulk_operation.progress` after each batch of a bulk retry or cancel: `bulk_operation_id`, "
        "`action`, `status`, `total`, `done`, `failed`, `canceled` and `pending` (no `execution_id`).",
        [
            {
                "name": "organization",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "format": "uuid"},
                "description": "The organization, for clients that cannot send `X-Organization-ID`.",
            }
        ],
    )
    paths["/hooks/{workflow_id}/{secret}"] = _webhook()
    result.setdefault("components", {}).setdefault("schemas", {})["ExecutionEventV1"] = _event_component()
    return result
