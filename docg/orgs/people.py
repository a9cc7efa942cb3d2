"""How docg names whoever did something, on every page, API field, export and e-mail that names a person.

A person is named by their e-mail address. An API key acts as a principal of its own
(docg/orgs/api_keys.py) whose e-mail is a placeholder nobody can write to; it is named by the
key's name instead, the name the audit gives it too.
"""

from typing import Any

from django.utils.translation import gettext


def person_label(user: Any, *, by_name: bool = False) -> str:
    """A person's e-mail (their name first with `by_name`), "API key: <name>" for a key, "" for nobody."""
    if user is None:
        return ""
    if getattr(user, "is_api_key", False):
        return gettext("API key: %(name)s") % {"name": user.name}
    return str((getattr(user, "name", "") if by_name else "") or getattr(user, "email", "") or "")
