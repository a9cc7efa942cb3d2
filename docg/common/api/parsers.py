import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from docg.common.errors import DocgError

MAX_JSON_DEPTH = 64


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _check(value) -> None:
    """Depth and content limits, checked without recursion (the input is untrusted).

    PostgreSQL's JSONB cannot hold NUL characters, so they are refused here as a
    400 rather than failing at the database as a 500.
    """
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > MAX_JSON_DEPTH:
            raise ParseError(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
        if isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    raise ParseError("JSON keys and strings may not contain NUL (\\u0000) characters.")
                stack.append((child, level + 1))
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
        elif isinstance(item, str) and "\x00" in item:
            raise ParseError("JSON keys and strings may not contain NUL (\\u0000) characters.")


class LimitedJSONParser(JSONParser):
    """JSON with hard limits on size (counted while reading: chunked bodies declare none) and nesting."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise DocgError("request_too_large", f"The request body is larger than {limit} bytes.", status_code=413)
        if not raw:
            raise ParseError("The request body is empty; send a JSON object.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
        except RecursionError:
            raise ParseError(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
        _check(data)
        return data
