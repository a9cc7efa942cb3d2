"""Who may read an execution's stream: JWT, the dashboard session, or a short-lived signed token.

Browsers' EventSource cannot send headers, so the API hands out a signed token
(`POST /api/v1/executions/{id}/stream-token`) that names one execution, one user
and one organization, and expires after STREAM_TOKEN_TTL_SECONDS.
"""

from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signing

from docg.common.api.exceptions import ApiError
from docg.orgs.models import Membership

SALT = "docg.stream-token"


def stream_token_issue(*, execution, user) -> str:
    """A token that lets `user` read `execution`'s stream for a short while."""
    payload = {"e": str(execution.pk), "u": str(user.pk), "o": str(execution.organization_id)}
    return signing.dumps(payload, salt=SALT, compress=True)


@dataclass
class StreamCaller:
    user: Any
    organization_id: Any
    execution_id: str | None = None  # set when authenticated by a stream token


def _from_token(token: str) -> StreamCaller:
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.STREAM_TOKEN_TTL_SECONDS)
    except signing.SignatureExpired:
        raise ApiError("stream_token_expired", "The stream token has expired: ask for a new one.", status_code=401)
    except signing.BadSignature:
        raise ApiError("stream_token_invalid", "The stream token is not valid.", status_code=401)
    membership = (
        Membership.objects.select_related("user")
        .filter(user_id=payload["u"], organization_id=payload["o"], user__is_active=True)
        .first()
    )
    if membership is None:
        raise ApiError("stream_token_invalid", "The stream token is not valid.", status_code=401)
    return StreamCaller(membership.user, membership.organization_id, payload["e"])


def _from_request_sync(request, user) -> StreamCaller:
    from rest_framework.request import Request
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

    from docg.common.api.tenancy import membership_for_request

    if request.headers.get("Authorization", "").startswith("Bearer "):
        try:
            found = JWTAuthentication().authenticate(Request(request))
        except (InvalidToken, AuthenticationFailed) as exc:
            raise ApiError("token_not_valid", "The access token is not valid or has expired.", status_code=401) from exc
        user = found[0] if found else None
    if user is None or not user.is_authenticated:
        raise ApiError("not_authenticated", "Authentication credentials were not provided.", status_code=401)
    request.user = user
    membership = membership_for_request(request)
    return StreamCaller(user, membership.organization_id)


async def stream_caller(request) -> StreamCaller:
    token = request.GET.get("token")
    if token:
        return await sync_to_async(_from_token)(token)
    user = await request.auser()
    return await sync_to_async(_from_request_sync)(request, user)
