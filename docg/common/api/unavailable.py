"""A database that refuses connections (too many clients, restarting, unreachable) is a 503, not a 500.

The request itself was fine: a client should come back later, and a 500 would
read as a bug. Django raises OperationalError for failures of the database's
operation rather than of the query (connection refused or dropped, "too many
clients", a full connection pool, shutdown); InterfaceError for a connection
that is already gone. Both answer 503 with Retry-After in the API's error shape,
from the DRF exception handler and from handler500 (dashboard, webhooks, and
middleware that touched the database before any view ran).
"""

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

MESSAGE = "The database is busy or unavailable. Try again shortly."


def is_database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def retry_after_seconds() -> int:
    return settings.DATABASE_UNAVAILABLE_RETRY_AFTER


def error_body(wait: int) -> dict:
    return {"error": {"code": "service_unavailable", "message": MESSAGE, "details": {"retry_after": wait}}}


def database_unavailable_response(*, api: bool) -> HttpResponse:
    wait = retry_after_seconds()
    if api:
        response: HttpResponse = JsonResponse(error_body(wait), status=503)
    else:
        response = HttpResponse(MESSAGE, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(wait)
    return response
