import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from docg.common.api.errors import ApiError


class LimitedJSONParser(JSONParser):
    """JSON with a hard size limit, counted while reading (chunked bodies have no Content-Length)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ApiError(
                "request_too_large", f"The request body is larger than {limit} bytes.", status_code=413
            )
        if not raw:
            raise ParseError("The request body is empty; send a JSON object.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(raw.decode(encoding))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
