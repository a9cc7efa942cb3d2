"""Google Forms polling: one run per new response of every active `google_forms.new_response` workflow.

Google Forms has no webhooks docg can subscribe to without Apps Script, so the
`poll_google_forms` actor (actors.py, scheduled by schedule.py) lists each
form's responses submitted since the workflow's watermark and starts a run per
response. Dedupe is a WebhookDelivery row per (workflow, response id), created
in the same transaction as the run: a response seen by two polls (the filter is
`timestamp >= watermark`, so ties are not lost; two workers may poll at once)
starts exactly one run. The watermark — the newest `lastSubmittedTime` seen —
is kept in the workflow's datastore under WATERMARK_KEY; a workflow polled for
the first time starts from its activation, so old responses start nothing.
"""

import logging
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction

from docg.audit.choices import ActorType
from docg.common.errors import DocgError
from docg.connectors.choices import ConnectionStatus, Provider
from docg.connectors.models import DataSourceConnection
from docg.connectors.oauth import fresh_access_token
from docg.executions.engine import execution_start
from docg.providers.google.client import GoogleClient
from docg.workflows.choices import WorkflowStatus
from docg.workflows.models import WebhookDelivery, Workflow, WorkflowDatastore

logger = logging.getLogger(__name__)

APP, OPERATION = "google_forms", "new_response"
WATERMARK_KEY = "google_forms.last_submitted_time"
MAX_PAGES = 20


def parse_time(value: str) -> datetime | None:
    """An RFC 3339 "Zulu" time as Google writes it (up to nanoseconds) → an aware datetime."""
    text = str(value or "").strip()
    if not text.endswith("Z"):
        return None
    text = text[:-1]
    if "." in text:
        whole, fraction = text.split(".", 1)
        text = f"{whole}.{(fraction + '000000')[:6]}"
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _answer_value(answer: dict) -> Any:
    if "fileUploadAnswers" in answer:
        files = (answer.get("fileUploadAnswers") or {}).get("answers") or []
        return [{"file_id": f.get("fileId"), "name": f.get("fileName"), "mime_type": f.get("mimeType")} for f in files]
    values = [a.get("value") for a in ((answer.get("textAnswers") or {}).get("answers") or []) if isinstance(a, dict)]
    return values[0] if len(values) == 1 else values


def response_trigger_data(form_id: str, response: dict) -> dict[str, Any]:
    """What the trigger gives the run: ids, times, e-mail and answers by question id."""
    answers = response.get("answers") if isinstance(response.get("answers"), dict) else {}
    return {
        "form_id": form_id,
        "response_id": str(response.get("responseId") or ""),
        "create_time": str(response.get("createTime") or ""),
        "last_submitted_time": str(response.get("lastSubmittedTime") or ""),
        "respondent_email": str(response.get("respondentEmail") or ""),
        "total_score": response.get("totalScore"),
        "answers": {str(qid): _answer_value(a) for qid, a in answers.items() if isinstance(a, dict)},
    }


def forms_workflows():
    """Active workflows whose frozen definition starts with the Google Forms trigger."""
    return (
        Workflow.objects.filter(
            status=WorkflowStatus.ACTIVE,
            active_version__definition__nodes__0__app=APP,
            active_version__definition__nodes__0__operation=OPERATION,
        )
        .select_related("active_version")
        .order_by("created_at")
    )


def _watermark(workflow: Workflow, form_id: str) -> str:
    row = WorkflowDatastore.objects.filter(workflow=workflow, key=WATERMARK_KEY).first()
    value = row.value if row is not None and isinstance(row.value, dict) else {}
    return str(value.get(form_id) or "") or format_time(workflow.active_version.created_at)


def _keep_watermark(workflow: Workflow, form_id: str, watermark: str) -> None:
    with transaction.atomic():
        row, _ = WorkflowDatastore.objects.select_for_update().get_or_create(
            workflow=workflow,
            key=WATERMARK_KEY,
            defaults={"organization_id": workflow.organization_id, "value": {}},
        )
        value = dict(row.value) if isinstance(row.value, dict) else {}
        current = parse_time(value.get(form_id, ""))
        if current is None or (parse_time(watermark) or current) > current:
            value[form_id] = watermark  # never back: a slower concurrent poll must not rewind it
            row.value = value
            row.save(update_fields=["value", "updated_at"])


def _start_once(workflow: Workflow, form_id: str, response: dict) -> bool:
    """Start the run for one response unless a run for it exists; True when a run started."""
    key = f"google_forms:{form_id}:{response['responseId']}"[:200]
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                organization_id=workflow.organization_id, workflow=workflow, idempotency_key=key
            )
            execution = execution_start(
                workflow=workflow,
                trigger_data=response_trigger_data(form_id, response),
                actor_type=ActorType.SYSTEM,
            )
            delivery.execution = execution
            delivery.save(update_fields=["execution", "updated_at"])
    except IntegrityError:
        return False  # an earlier poll (or a concurrent one) started it
    except DocgError as exc:  # e.g. trigger_data too large, or the workflow was deactivated meanwhile
        logger.warning("Google Forms response %s of workflow %s not started: %s", key, workflow.pk, exc.code)
        return False
    return True


def _client_for(workflow: Workflow, trigger: dict) -> GoogleClient:
    connection = DataSourceConnection.objects.filter(
        organization_id=workflow.organization_id,
        pk=trigger.get("connection") or None,
        provider=Provider.GOOGLE,
        status=ConnectionStatus.ACTIVE,
    ).first()
    if connection is None:
        raise DocgError(
            "connection.inactive",
            "The Google Forms trigger has no active Google connection.",
            {"workflow_id": str(workflow.pk), "connection": trigger.get("connection")},
        )
    return GoogleClient(access_token=fresh_access_token(connection=connection), correlation_id=str(workflow.pk))


def forms_poll_workflow(*, workflow: Workflow) -> dict[str, Any]:
    """Poll one workflow's form: start a run per new response, move the watermark; returns what happened."""
    trigger = workflow.active_version.definition["nodes"][0]
    form_id = str((trigger.get("parameters") or {}).get("form_id") or "").strip()
    if not form_id:
        return {"workflow_id": str(workflow.pk), "error": "no form_id"}
    client = _client_for(workflow, trigger)
    since = _watermark(workflow, form_id)
    responses: list[dict] = []
    page_token = ""
    for _ in range(MAX_PAGES):  # network I/O first, outside any transaction
        page = client.forms_list_responses(form_id=form_id, since=since, page_token=page_token)
        responses += [r for r in page.get("responses") or [] if isinstance(r, dict) and r.get("responseId")]
        page_token = str(page.get("nextPageToken") or "")
        if not page_token:
            break
    epoch = datetime.min.replace(tzinfo=UTC)
    responses.sort(key=lambda r: parse_time(r.get("lastSubmittedTime", "")) or epoch)
    started = [r["responseId"] for r in responses if _start_once(workflow, form_id, r)]
    newest = max((r.get("lastSubmittedTime", "") for r in responses), key=lambda t: parse_time(t) or epoch, default="")
    if parse_time(newest):
        _keep_watermark(workflow, form_id, newest)
    return {
        "workflow_id": str(workflow.pk),
        "form_id": form_id,
        "seen": len(responses),
        "started": started,
        "watermark": newest or since,
    }


def forms_poll_all() -> list[dict[str, Any]]:
    """Poll every active Google Forms workflow; one workflow's failure does not stop the others."""
    outcomes = []
    for workflow in forms_workflows():
        try:
            outcomes.append(forms_poll_workflow(workflow=workflow))
        except DocgError as exc:
            logger.warning(
                "Google Forms poll of workflow %s failed: %s %s", workflow.pk, exc.code, exc.details.get("summary")
            )
            outcomes.append({"workflow_id": str(workflow.pk), "error": exc.code, "transient": exc.transient})
    return outcomes
