from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


# Roles allowed to change things; viewers read only.
WRITER_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER})
MANAGER_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class Language(models.TextChoices):
    EN = "en", "English"
    PT_BR = "pt-br", "Português (Brasil)"


class Plan(models.TextChoices):
    FREE = "free", "Free"
    PRO = "pro", "Pro"
    BUSINESS = "business", "Business"
