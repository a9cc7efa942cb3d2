from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from docg.common.errors import DocgError
from docg.common.untrusted import UntrustedValueError, loads_untrusted


class LimitedJSONParser(JSONParser):
    """JSON with hard limits on size (counted while reading: chunked bodies declare none) and nesting.

    Content PostgreSQL cannot store (NUL, lone surrogates, numbers that overflow to
    Infinity) is refused here, once for every route, as a 400 naming the field:
    otherwise it fails at the database as a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise DocgError("request_too_large", f"The request body is larger than {limit} bytes.", status_code=413)
        if not raw:
            raise ParseError("The request body is empty; send a JSON object.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return loads_untrusted(raw.decode(encoding))
        except UntrustedValueError as exc:
            raise DocgError(
                "invalid_json_value",
                exc.message if not exc.field else f"{exc.field}: {exc.message}",
                details={exc.field or "non_field_errors": [exc.message]},
            ) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
        except RecursionError:
            raise ParseError("The JSON is nested too deeply.") from None
