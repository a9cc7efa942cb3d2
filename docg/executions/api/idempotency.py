"""Starting a run through the API: an Idempotency-Key, and never a 5xx once the run is committed.

A client that gets no answer (a timeout, a 5xx, a dropped connection) sends the
start again; without a key, that runs the workflow twice. With an
`Idempotency-Key` header, the first start is recorded in its own transaction
with the answer it gave (StartRequest, per organization, kept
IDEMPOTENCY_KEY_HOURS), and a repeat gets that same answer, marked
`Idempotent-Replayed: true`, whatever state the run is in now. A repeat sent
while the first is still running waits for it (the key's unique index) and then
gets its answer. The same key with another request (another route or body) is a
422. A start that failed (a 4xx) is not recorded: sending it again tries again.

A start's answer is built inside its transaction (with a key), or re-read on a
fresh connection after commit (without one, falling back to a short answer if
the database stays away): a re-read after commit used to answer 500 for a run
that existed.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.response import Response

from docg.common.errors import DocgError
from docg.executions.db_retry import CONNECTION_ERRORS, on_fresh_connection
from docg.executions.models import StartRequest, WorkflowExecution

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# For the schema of every start route.
IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID): a start sent again with the same key within 24 hours is not run again; "
        "it gets the first answer, with the header Idempotent-Replayed: true."
    ),
)


class _KeyTaken(Exception):
    pass


def start_response(
    request,
    *,
    start: Callable[[], WorkflowExecution],
    answer: Callable[[WorkflowExecution], dict],
    status_code: int = status.HTTP_202_ACCEPTED,
) -> Response:
    """Run `start` and answer with `answer(run)`, both in one transaction; honour the request's Idempotency-Key."""
    key = _key(request)
    if not key:
        # No outer transaction here: the plan's usage counter stays locked only for its own UPDATE.
        execution = start()
        return Response(_answer_committed(answer, execution), status=status_code)
    organization = request.organization
    fingerprint = _fingerprint(request)
    try:
        with transaction.atomic():
            record = _claim(organization, key, fingerprint)
            execution = start()
            body = answer(execution)
            record.execution = execution
            record.status_code = status_code
            record.response = body
            record.save(update_fields=["execution", "status_code", "response", "updated_at"])
        return Response(body, status=status_code)
    except _KeyTaken:
        pass
    first = StartRequest.objects.get(organization=organization, key=key)
    if first.fingerprint != fingerprint:
        raise DocgError(
            "idempotency_key.reused",
            f"This {HEADER} was already used with another request; use a new key for a new start.",
            status_code=422,
        )
    return Response(first.response, status=first.status_code, headers={REPLAYED_HEADER: "true"})


def _answer_committed(answer: Callable[[WorkflowExecution], dict], execution: WorkflowExecution) -> dict:
    try:
        return on_fresh_connection(lambda: answer(execution), what=f"reading the started run {execution.pk}")
    except CONNECTION_ERRORS:
        # The run exists and will run: a short answer, not a 5xx that the client would retry into a second run.
        return {
            "id": str(execution.pk),
            "workflow": str(execution.workflow_id),
            "status": execution.status,
            "correlation_id": str(execution.correlation_id),
        }


def _key(request) -> str:
    key = request.headers.get(HEADER, "").strip()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise DocgError(
            "idempotency_key.invalid",
            f"{HEADER} must be at most {MAX_KEY_LENGTH} printable characters.",
            details={"field": HEADER},
        )
    return key


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim(organization, key: str, fingerprint: str) -> StartRequest:
    """The key's row, new, in the caller's transaction; _KeyTaken if a live one exists (after it commits)."""
    # The organization's expired keys go here (this one among them, so it can be used again).
    expired = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    StartRequest.objects.filter(organization=organization, created_at__lt=expired).delete()
    try:
        with transaction.atomic():
            return StartRequest.objects.create(organization=organization, key=key, fingerprint=fingerprint)
    except IntegrityError:
        raise _KeyTaken from None
