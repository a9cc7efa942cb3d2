import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from docg.common.api.exceptions import ApiError

MAX_JSON_DEPTH = 64


def _depth(value) -> int:
    """Nesting depth, computed without recursion (the input is untrusted)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


class LimitedJSONParser(JSONParser):
    """JSON with hard limits on size (counted while reading: chunked bodies declare none) and nesting."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ApiError("request_too_large", f"The request body is larger than {limit} bytes.", status_code=413)
        if not raw:
            raise ParseError("The request body is empty; send a JSON object.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
        except RecursionError:
            raise ParseError(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
        if _depth(data) > MAX_JSON_DEPTH:
            raise ParseError(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
        return data
