"""E-mail recipient lists as workflows write them: a list, or one string with commas or semicolons.

Shared by every e-mail action and the preflight checks (not only SMTP's).
"""

from email.utils import getaddresses
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email


def split_addresses(value: Any) -> list[tuple[str, str]]:
    """(display name, address) pairs from a list or a "a@x.com, Ana <b@y.com>; c@z.com" string."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list | tuple) else [value]
    parts: list[str] = []
    for item in items:
        parts.extend(str(item if item is not None else "").replace(";", ",").split(","))
    pairs = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        parsed = getaddresses([part])
        # getaddresses turns garbage into ('', '') or mangles it: keep the raw text so validation names it.
        if len(parsed) == 1 and parsed[0][1] and "\n" not in part and "\r" not in part:
            pairs.append((parsed[0][0], parsed[0][1]))
        else:
            pairs.append(("", part))
    return pairs


def is_valid_email(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def invalid_addresses(value: Any) -> list[str]:
    return [address for _, address in split_addresses(value) if not is_valid_email(address)]
