from django.db import models
from django.utils.translation import gettext_lazy as _


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
