"""Every API error has one shape: {"error": {"code", "message", "details"}}."""

import math
import sys
from typing import Any

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from docg.common.api import unavailable
from docg.common.api.unavailable import is_database_unavailable, retry_after_seconds
from docg.common.errors import DocgError


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details if details is not None else {}}}


_DEFAULT_CODES = {
    400: "invalid_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def _first_error(detail: Any, where: str = "") -> tuple[str, str]:
    """(where, message) of the first error in DRF's nested detail: `nodes[1].parameters`.

    A list serializer gives `{}` for each item without errors; those are skipped, not shown as "{}".
    """
    if isinstance(detail, list):
        for index, item in enumerate(detail):
            if item:
                return _first_error(item, f"{where}[{index}]" if isinstance(item, dict) else where)
        return where, ""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if value:
                inner = where if key in ("non_field_errors", "detail") else (f"{where}.{key}" if where else str(key))
                return _first_error(value, inner)
        return where, ""
    return where, str(detail)


def _first_message(detail: Any) -> str:
    where, message = _first_error(detail)
    return f"{where}: {message}" if where else message


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if is_database_unavailable(exc):
        wait = retry_after_seconds()
        return Response(unavailable.error_body(wait), status=503, headers={"Retry-After": str(wait)})
    if isinstance(exc, DocgError):
        # A traceback (added when a step records the error) is for the logs, never for the client.
        details = {k: v for k, v in exc.details.items() if k != "traceback"}
        return Response(error_body(exc.code, exc.message, details), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.messages)
    if isinstance(exc, SuspiciousOperation):
        exc = exceptions.ValidationError(str(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    status_code = response.status_code
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("validation_error", _first_message(exc.detail), exc.detail)
    elif isinstance(exc, (Http404, exceptions.NotFound)):
        body = error_body("not_found", "Not found.")
    elif isinstance(exc, PermissionDenied):
        body = error_body("permission_denied", "You do not have permission to perform this action.")
    else:
        detail = getattr(exc, "detail", str(exc))
        if isinstance(detail, dict) and "code" in detail:
            # simplejwt's token errors: {"detail", "code", "messages"}.
            code, message = detail["code"], str(detail.get("detail", ""))
        else:
            code = getattr(detail, "code", None)
            message = detail if isinstance(detail, str) else _first_message(detail)
        if code in (None, "error", "invalid", "not_found", "parse_error", "authentication_failed"):
            code = _DEFAULT_CODES.get(status_code, "error") if code != "parse_error" else "malformed_json"
        # A throttled client learns when to come back in the body too, not only in Retry-After.
        wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
        body = error_body(str(code), str(message), {"retry_after": math.ceil(wait)} if wait is not None else None)
    response.data = body
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/hooks/")


def _plain_or_json(request, status_code: int, code: str, message: str, fallback):
    if _is_api(request):
        return JsonResponse(error_body(code, message), status=status_code)
    return fallback(request)


def handler404(request, exception=None):
    from django.views.defaults import page_not_found

    return _plain_or_json(request, 404, "not_found", "Not found.", lambda r: page_not_found(r, exception))


def handler400(request, exception=None):
    from django.views.defaults import bad_request

    return _plain_or_json(request, 400, "invalid_request", "Bad request.", lambda r: bad_request(r, exception))


def handler403(request, exception=None):
    from django.views.defaults import permission_denied

    return _plain_or_json(
        request, 403, "permission_denied", "Permission denied.", lambda r: permission_denied(r, exception)
    )


def handler500(request):
    from django.views.defaults import server_error

    # Called inside Django's except block: the exception being handled is the current one.
    if is_database_unavailable(sys.exc_info()[1]):
        return unavailable.database_unavailable_response(api=_is_api(request))

    return _plain_or_json(
        request, status.HTTP_500_INTERNAL_SERVER_ERROR, "server_error", "Internal error.", server_error
    )
