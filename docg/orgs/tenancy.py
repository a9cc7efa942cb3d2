"""Which organization a caller acts for, and what their role lets them do there: worked out here only.

Every entry point asks this module, so the rules cannot drift apart:
- the REST API and live streams: the `X-Organization-ID` header, or the caller's only organization;
- the dashboard: the organization chosen with the switcher (kept in the session), else the first one;
- EventSource, which cannot send headers: a short-lived signed stream token naming one
  execution, one user and one organization (`stream_token_issue`);
- the OAuth connect flow: the member lookup by organization id;
- an integration's API key (`Authorization: Api-Key <key>`, `ApiKeyAuthentication`): the key's
  organization. The key acts as its own principal, a member of that one organization only, so the
  header rule below needs no X-Organization-ID and answers 404 for any other organization.

An organization the caller does not belong to is answered exactly like one that does not
exist, so ids cannot be probed.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from docg.common.errors import DocgError
from docg.orgs.api_keys import api_key_authenticate
from docg.orgs.choices import MANAGER_ROLES, WRITER_ROLES
from docg.orgs.models import ApiKey, Membership
from docg.orgs.selectors import memberships_of

ORG_HEADER = "HTTP_X_ORGANIZATION_ID"
# The dashboard's current organization (the switcher's choice).
SESSION_KEY = "docg_organization_id"
STREAM_TOKEN_SALT = "docg.stream-token"


# --- roles -------------------------------------------------------------------------------
def role_allows(membership: Membership | None, roles: frozenset) -> bool:
    return membership is not None and membership.role in roles


def can_write(membership: Membership | None) -> bool:
    """Owners, admins and members change things; viewers only read."""
    return role_allows(membership, WRITER_ROLES)


def can_manage(membership: Membership | None) -> bool:
    """Owners and admins manage the organization: connections, billing, members."""
    return role_allows(membership, MANAGER_ROLES)


# --- member lookup -----------------------------------------------------------------------
def membership_find(*, user: Any, organization_id: Any) -> Membership | None:
    """The user's membership in that organization (organization loaded), or None."""
    if not _as_uuid(str(organization_id)):
        return None
    return memberships_of(user=user).filter(organization_id=organization_id).first()


def member_organization_ids(*, user: Any) -> list:
    """The ids of every organization the user belongs to."""
    return list(memberships_of(user=user).values_list("organization_id", flat=True))


def request_bind(request: Any, membership: Membership) -> Membership:
    """Put the membership and its organization on the request, where views and serializers read them."""
    request.membership = membership
    request.organization = membership.organization
    return membership


# --- API keys (integrations) ------------------------------------------------------------------
API_KEY_KEYWORD = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """DRF authentication for `Authorization: Api-Key <key>`: the key's principal, with the key as `request.auth`.

    A request without that header is left to the other classes (JWT, session); a wrong,
    revoked or expired key is a 401.
    """

    def authenticate(self, request):
        keyword, found, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if not found or keyword.lower() != API_KEY_KEYWORD.lower():
            return None
        return api_key_caller(raw)

    def authenticate_header(self, request) -> str:
        return API_KEY_KEYWORD


def api_key_caller(raw: str) -> tuple[Any, ApiKey]:
    """(principal, key) for a raw key, or AuthenticationFailed."""
    api_key = api_key_authenticate(raw)
    if api_key is None or not api_key.user.is_active:
        raise exceptions.AuthenticationFailed(_("The API key is not valid, revoked or expired."), "api_key_invalid")
    return api_key.user, api_key


# --- the header (REST API, live streams) --------------------------------------------------
def membership_for_header(*, user: Any, header: str) -> Membership:
    """The caller's membership in the organization named by the header value (or their only one).

    Raises DocgError: 400 for a malformed or missing choice, 404 for a foreign organization,
    403 for a user without any organization.
    """
    raw = (header or "").strip()
    memberships = memberships_of(user=user)
    if raw:
        org_id = _as_uuid(raw)
        if org_id is None:
            raise DocgError("invalid_organization_header", "X-Organization-ID must be an organization's UUID.")
        membership = memberships.filter(organization_id=org_id).first()
        if membership is None:
            raise DocgError("organization_not_found", "No such organization.", status_code=404)
        return membership
    found = list(memberships[:2])
    if not found:
        raise DocgError("no_organization", "You are not a member of any organization.", status_code=403)
    if len(found) > 1:
        raise DocgError(
            "organization_required",
            "You belong to several organizations: send X-Organization-ID to choose one.",
        )
    return found[0]


def membership_for_request(request: Any) -> Membership:
    """The API caller's membership, from X-Organization-ID (see `membership_for_header`).

    An API key's principal belongs to the key's organization only, so for a key the header may be
    left out and any other organization is a 404.
    """
    return membership_for_header(user=request.user, header=request.META.get(ORG_HEADER, ""))


def organization_choice(header: str, query: str) -> str:
    """The organization a stream is for: X-Organization-ID, or the `organization` query parameter.

    EventSource cannot send headers, so a dashboard user of several organizations names one
    in the URL. The value then goes through the same membership check as the header (a
    foreign or unknown organization is a 404); a header and a parameter that disagree are refused.
    """
    header, query = header.strip(), query.strip()
    if not query:
        return header
    chosen = _as_uuid(query)
    if chosen is None:
        raise DocgError("invalid_organization", "The organization parameter must be an organization's UUID.")
    if header and _as_uuid(header) != chosen:
        raise DocgError("organization_mismatch", "X-Organization-ID and the organization parameter disagree.")
    return str(chosen)


# --- the session (dashboard) --------------------------------------------------------------
def session_memberships(request: HttpRequest) -> list[Membership]:
    """Every membership of the session's user, by organization name (cached on the request)."""
    cached = getattr(request, "_docg_memberships", None)
    if cached is None:
        cached = list(memberships_of(user=request.user).order_by("organization__name"))
        request._docg_memberships = cached
    return cached


def session_membership(request: HttpRequest) -> Membership | None:
    """The organization chosen with the switcher, else the user's first one; None without any."""
    memberships = session_memberships(request)
    chosen = request.session.get(SESSION_KEY)
    for membership in memberships:
        if str(membership.organization_id) == chosen:
            return membership
    return memberships[0] if memberships else None


def session_choose(request: HttpRequest, organization_id: Any) -> Membership | None:
    """Make `organization_id` the session's organization if the user belongs to it (and bind it)."""
    for membership in session_memberships(request):
        if str(membership.organization_id) == str(organization_id):
            request.session[SESSION_KEY] = str(membership.organization_id)
            return request_bind(request, membership)
    return None


# --- live streams ----------------------------------------------------------------------------
@dataclass(frozen=True)
class StreamCaller:
    user: Any
    organization_id: Any
    execution_id: str | None = None  # set when authenticated by a stream token


def stream_token_issue(*, execution: Any, user: Any) -> str:
    """A token that lets `user` read `execution`'s stream for STREAM_TOKEN_TTL_SECONDS."""
    payload = {"e": str(execution.pk), "u": str(user.pk), "o": str(execution.organization_id)}
    return signing.dumps(payload, salt=STREAM_TOKEN_SALT, compress=True)


def stream_token_caller(token: str) -> StreamCaller:
    """The caller a stream token names, if it is genuine, fresh, and its user still an active member."""
    try:
        payload = signing.loads(token, salt=STREAM_TOKEN_SALT, max_age=settings.STREAM_TOKEN_TTL_SECONDS)
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


def stream_caller(*, token: str, authorization: str, session_key: str, organization_header: str) -> StreamCaller:
    """Authenticate a stream reader from raw credentials (blocking ORM work: call it off the event loop).

    Order: a stream token; else a JWT (`Authorization: Bearer`) or an API key (`Api-Key`); else
    the dashboard session cookie. Without a token, the organization follows the header rule of
    the REST API (for a key, its own organization).
    """
    if token:
        return stream_token_caller(token)
    user = None
    if authorization.startswith("Bearer "):
        user = _user_from_jwt(authorization.split(" ", 1)[1].strip())
    elif authorization.startswith(f"{API_KEY_KEYWORD} "):
        try:
            user, _key = api_key_caller(authorization.split(" ", 1)[1].strip())
        except exceptions.AuthenticationFailed as exc:
            raise DocgError("api_key_invalid", str(exc.detail), status_code=401) from exc
    elif session_key:
        user = _user_from_session(session_key)
    if user is None or not user.is_authenticated:
        raise DocgError("not_authenticated", "Authentication credentials were not provided.", status_code=401)
    membership = membership_for_header(user=user, header=organization_header)
    return StreamCaller(user, membership.organization_id)


def _user_from_jwt(raw: str):
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

    jwt = JWTAuthentication()
    try:
        return jwt.get_user(jwt.get_validated_token(raw))
    except (InvalidToken, AuthenticationFailed) as exc:
        raise DocgError("token_not_valid", "The access token is not valid or has expired.", status_code=401) from exc


def _user_from_session(session_key: str):
    from types import SimpleNamespace

    from django.contrib.auth import get_user
    from django.utils.module_loading import import_string

    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    return get_user(SimpleNamespace(session=store(session_key)))


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
