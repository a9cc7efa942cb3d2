"""Text and JSON from outside, checked once for what PostgreSQL and UTF-8 cannot hold.

Python's json module accepts three things our storage refuses later, as a 500:
lone surrogates (`"\\ud800"`: valid JSON escapes, but not encodable as UTF-8, so
jsonb and text columns raise), NUL characters (jsonb and text columns refuse
them) and numbers that overflow a double (`1e400` is parsed as Infinity, which
jsonb cannot store). Every entry point that takes JSON or form text from a
client (the API parser, inbound webhooks, the dashboard's forms) checks with
this module, so the answer is a 400 naming the field instead.
"""

import json
import math
import re
from typing import Any

MAX_JSON_DEPTH = 64

# A surrogate code point on its own: str can hold it, UTF-8 cannot encode it.
_UNENCODABLE = re.compile("[\x00\ud800-\udfff]")


class UntrustedValueError(ValueError):
    """A value that cannot be stored; `field` is its path, `nodes[1].parameters.to` ("" for the whole body)."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    found = _UNENCODABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Text may not contain NUL (\\u0000) characters."
    return "Text may not contain lone surrogates (\\ud800-\\udfff): they are not valid Unicode."


def check_text(value: str, field: str) -> str:
    """`value` unchanged, or UntrustedValueError naming `field`."""
    problem = text_problem(value)
    if problem:
        raise UntrustedValueError(field, problem)
    return value


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def check_json(value: Any, *, field: str = "", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`value` unchanged if every key, string and number in it can be stored; else UntrustedValueError.

    Iterative, not recursive: the input is untrusted and may be deep.
    """
    stack = [(value, field, 1)]
    while stack:
        item, path, level = stack.pop()
        if level > max_depth:
            raise UntrustedValueError(path, f"The JSON is nested more than {max_depth} levels deep.")
        if isinstance(item, dict):
            for key, child in item.items():
                key_text = str(key)
                if _UNENCODABLE.search(key_text):
                    raise UntrustedValueError(_join(path, key_text.encode("unicode_escape").decode()),
                                              text_problem(key_text) or "")  # fmt: skip
                stack.append((child, _join(path, key_text), level + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{index}]", level + 1) for index, child in enumerate(item))
        elif isinstance(item, str):
            check_text(item, path)
        elif isinstance(item, float) and not math.isfinite(item):
            raise UntrustedValueError(path, "Numbers must be finite (no NaN, Infinity, or values like 1e400).")
    return value


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def loads_untrusted(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads for client input: ValueError for malformed JSON, UntrustedValueError for what cannot be stored.

    RecursionError (nesting deeper than the interpreter parses) propagates: callers word it for their audience.
    """
    return check_json(json.loads(raw, parse_constant=_refuse_constant), max_depth=max_depth)
