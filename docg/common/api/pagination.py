from django.core.exceptions import ValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from docg.common.api.filters import UtcDateTimeField
from docg.common.errors import DocgError


class CreatedCursorPagination(CursorPagination):
    """Stable cursor pages, newest first; `limit` is capped at 100."""

    ordering = ("-created_at", "-id")
    page_size = 25
    page_size_query_param = "limit"
    max_page_size = 100

    def decode_cursor(self, request):
        # DRF answers 404 for a cursor it cannot read, and passes the position inside a readable one
        # straight to the query: a forged `p=…-22:23` was a database error. Both are a bad parameter.
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            problem = True
        else:
            problem = False
        if cursor is not None and cursor.position is not None:
            try:
                cursor = cursor._replace(position=UtcDateTimeField().clean(cursor.position).isoformat())
            except ValidationError:
                problem = True
        if problem:
            raise DocgError("cursor.invalid", "The cursor is not one this list gave out: start from the first page.")
        return cursor
