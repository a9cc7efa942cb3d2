"""Webhook endpoints (/hooks/...): plain Django views that answer in the API's error shape."""

from functools import wraps

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from docg.common.api.errors import error_body
from docg.common.errors import DocgError


def post_only(view):
    """csrf_exempt and POST only; any other method gets 405 in the error shape (require_POST sends no body).

    A DocgError the view raises is answered in the error shape with its status. Oversized bodies never
    get here: the body limit (docg.common.body_limit, and the WSGI middleware) refuses them first.
    """

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "POST":
            response = JsonResponse(
                error_body("method_not_allowed", _("This address accepts POST only, from the sending service.")),
                status=405,
            )
            response["Allow"] = "POST"
            return response
        try:
            return view(request, *args, **kwargs)
        except DocgError as exc:
            return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status_code)

    return wrapper
