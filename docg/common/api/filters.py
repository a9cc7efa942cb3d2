"""Query-string filters shared by every app's filtersets."""

import re
from datetime import UTC, timedelta

import django_filters
from django.core.exceptions import ValidationError

# The widest offsets in use on Earth; Python accepts up to ±24 h and PostgreSQL refuses past ±15:59,
# which turned a hostile `created_after=…-22:23` into a database error (500).
MAX_UTC_OFFSET = timedelta(hours=14)
# The extended form only: Python's fromisoformat also reads '11111111T111111' (and 400 such digits).
ISO_EXTENDED = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.,]+(?:Z|[+-]\d{2}(?::?\d{2})?)?)?", re.ASCII)


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time with a real-world offset, converted to UTC before it reaches a query."""

    def strptime(self, value, format):
        try:
            return super().strptime(value, format)
        except (OverflowError, ValueError) as exc:  # a year past 9999, digits too large for C
            raise ValueError(str(exc)) from exc

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not ISO_EXTENDED.fullmatch(value.strip()):
            # Also refuses other scripts' digits, which Python's parsers accept and nobody sends on purpose.
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        moment = super().to_python(value)
        if moment is None:
            return None
        offset = moment.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise ValidationError("Enter a time zone offset between -14:00 and +14:00.", code="invalid")
        try:
            return moment.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the first representable instant
            raise ValidationError(self.error_messages["invalid"], code="invalid")


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField
