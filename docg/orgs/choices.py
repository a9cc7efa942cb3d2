from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")
    VIEWER = "viewer", _("Viewer")


# Roles allowed to change things; viewers read only.
WRITER_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER})
MANAGER_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class Language(models.TextChoices):
    # Each language is named in itself, as language pickers do: a reader finds theirs whatever is shown.
    EN = "en", "English"
    PT_BR = "pt-br", "Português (Brasil)"


class Plan(models.TextChoices):
    FREE = "free", _("Free")
    # Product names, the same in every language.
    PRO = "pro", "Pro"
    BUSINESS = "business", "Business"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("invitation", "Pending")
    ACCEPTED = "accepted", pgettext_lazy("invitation", "Accepted")
    REVOKED = "revoked", pgettext_lazy("invitation", "Withdrawn")
    EXPIRED = "expired", pgettext_lazy("invitation", "Expired")


class ApiKeyStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("api key", "Active")
    REVOKED = "revoked", pgettext_lazy("api key", "Revoked")
    EXPIRED = "expired", pgettext_lazy("api key", "Expired")
