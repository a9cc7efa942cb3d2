"""Admin search that finds a pasted UUID (an execution id, a correlation id) on PostgreSQL and SQLite alike.

Django's admin compares a UUID `field__exact` search field as text (CAST(id AS varchar) = term), and
that text is lower-case dashed on PostgreSQL but 32 hex digits on SQLite, so a pasted id matched on one
database, or in one letter case, only. Each term that is a UUID is spelled the way this database
spells it before Django builds the search.
"""

import uuid

from django.db import connection
from django.utils.text import smart_split, unescape_string_literal


def uuids_as_stored(search_term: str) -> str:
    terms = []
    for term in smart_split(search_term):
        bare = unescape_string_literal(term) if term[:1] in "\"'" and term[0] == term[-1] else term
        try:
            value = uuid.UUID(bare)
        except ValueError:
            terms.append(term)
        else:
            terms.append(str(value) if connection.features.has_native_uuid_field else value.hex)
    return " ".join(terms)


class UUIDSearchMixin:
    """For a ModelAdmin whose search_fields include UUID `__exact` lookups."""

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, uuids_as_stored(search_term))
