"""Who may read an execution's stream: JWT, the dashboard session, or a short-lived signed token.

Browsers' EventSource cannot send headers, so the API hands out a signed token
(`POST /api/v1/executions/{id}/stream-token`) that names one execution, one user
and one organization, and expires after STREAM_TOKEN_TTL_SECONDS.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing

from docg.common.errors import DocgError
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
        raise DocgError("stream_token_expired", "The stream token has expired: ask for a new one.", status_code=401)
    except signing.BadSignature:
        raise DocgError("stream_token_invalid", "The stream token is not valid.", status_code=401)
    membership = (
        Membership.objects.select_related("user")
        .filter(user_id=payload["u"], organization_id=payload["o"], user__is_active=True)
        .first()
    )
    if membership is None:
        raise DocgError("stream_token_invalid", "The stream token is not valid.", status_code=401)
    return StreamCaller(membership.user, membership.organization_id, payload["e"])


def _user_from_session(session_key: str):
    from types import SimpleNamespace

    from django.contrib.auth import get_user
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.module_loading import import_string

    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore") if settings.SESSION_ENGINE else SessionStore
    return get_user(SimpleNamespace(session=store(session_key)))


def caller_from_credentials(*, token: str, authorization: str, session_key: str, organization_header: str):
    """Authenticate a stream reader from raw credentials (blocking: call it in a thread).

    Works from an ASGI scope as well as from a Django request, so the SSE fast
    path and the Django view apply exactly the same rules.
    """
    from types import SimpleNamespace

    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

    from docg.common.api.tenancy import membership_for_request

    try:
        if token:
            return _from_token(token)
        user = None
        if authorization.startswith("Bearer "):
            jwt = JWTAuthentication()
            try:
                user = jwt.get_user(jwt.get_validated_token(authorization.split(" ", 1)[1].strip()))
            except (InvalidToken, AuthenticationFailed) as exc:
                raise DocgError(
                    "token_not_valid", "The access token is not valid or has expired.", status_code=401
                ) from exc
        elif session_key:
            user = _user_from_session(session_key)
        if user is None or not user.is_authenticated:
            raise DocgError("not_authenticated", "Authentication credentials were not provided.", status_code=401)
        request = SimpleNamespace(user=user, META={"HTTP_X_ORGANIZATION_ID": organization_header})
        membership = membership_for_request(request)
        return StreamCaller(user, membership.organization_id)
    finally:
        # Pool threads keep no connection between streams: one per open stream would
        # exhaust PostgreSQL long before the event loop notices any load.
        from django.db import connections

        connections.close_all()


async def stream_caller(request) -> StreamCaller:
    """The caller of a Django request (the SSE view)."""
    import asyncio

    return await asyncio.to_thread(
        caller_from_credentials,
        token=request.GET.get("token", ""),
        authorization=request.headers.get("Authorization", ""),
        session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME, ""),
        organization_header=request.headers.get("X-Organization-ID", ""),
    )
