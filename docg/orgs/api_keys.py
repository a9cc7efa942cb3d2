"""Organization API keys for integrations: created and revoked by owners and admins, shown once.

Keys are made and checked by djangorestframework-api-key's KeyGenerator (`<prefix>.<secret>`,
SHA-512 of a high-entropy secret); we keep only the prefix and the hash. Each key acts as a
principal of its own, a User row with `is_api_key` and one membership (the key's role) in the
key's organization. So every path that already knows users (created_by columns, role checks,
the audit's actor) works unchanged for keys, and the audit names the key (docg.audit user_actor).
The principal has no usable password, so it can only ever authenticate with its key
(docg.orgs.tenancy.ApiKeyAuthentication).
"""

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework_api_key.crypto import KeyGenerator

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log, user_actor
from docg.common.errors import DocgError
from docg.orgs.choices import MANAGER_ROLES, Role
from docg.orgs.models import ApiKey, Membership, Organization, User

KEY_GENERATOR = KeyGenerator()
# last_used_at is written at most this often per key: a busy integration must not write on every call.
LAST_USED_GRANULARITY = timedelta(minutes=1)
PRINCIPAL_EMAIL_DOMAIN = "api-keys.docg.invalid"


def api_keys_of(*, organization: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organization=organization)


@transaction.atomic
def api_key_create(
    *, organization: Organization, by: Membership, name: str, role: str, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Create a key; returns (row, the key itself), which is never shown again."""
    if getattr(by.user, "is_api_key", False):
        raise DocgError("forbidden", _("API keys are created by people, not by other keys."), status_code=403)
    if by.role not in MANAGER_ROLES:
        raise DocgError("forbidden", _("Only owners and admins manage API keys."), status_code=403)
    if role == Role.OWNER and by.role != Role.OWNER:
        raise DocgError("forbidden", _("Only an owner can create a key with the owner role."), status_code=403)
    name = name.strip()
    if ApiKey.objects.filter(organization=organization, name__iexact=name).exists():
        raise DocgError("name_taken", _("A key with this name exists already."), details={"name": [name]})
    if expires_at is not None and expires_at <= timezone.now():
        raise DocgError("invalid_expiry", _("The expiry must be in the future."), details={"expires_at": ["past"]})
    key_id = uuid.uuid4()
    principal = User(email=f"{key_id}@{PRINCIPAL_EMAIL_DOMAIN}", name=name, is_api_key=True)
    principal.set_unusable_password()
    principal.save()
    Membership.objects.create(organization=organization, user=principal, role=role)
    key, prefix, hashed_key = KEY_GENERATOR.generate()
    api_key = ApiKey.objects.create(
        id=key_id,
        organization=organization,
        user=principal,
        name=name,
        role=role,
        prefix=prefix,
        hashed_key=hashed_key,
        expires_at=expires_at,
        created_by=by.user,
    )
    audit_log(
        organization=organization,
        action=AuditAction.API_KEY_CREATED,
        target_type="api_key",
        target_id=api_key.pk,
        metadata={"name": name, "role": role, "prefix": prefix, "expires_at": expires_at},
        **user_actor(by.user),
    )
    return api_key, key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, by: Membership) -> ApiKey:
    """Revoke a key at once: its next request is refused. The row stays for the audit's sake."""
    if by.role not in MANAGER_ROLES:
        raise DocgError("forbidden", _("Only owners and admins manage API keys."), status_code=403)
    updated = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if updated:
        # The principal keeps no access through any other path.
        Membership.objects.filter(user_id=api_key.user_id).delete()
        audit_log(
            organization=api_key.organization_id,
            action=AuditAction.API_KEY_REVOKED,
            target_type="api_key",
            target_id=api_key.pk,
            metadata={"name": api_key.name, "prefix": api_key.prefix},
            **user_actor(by.user),
        )
    api_key.refresh_from_db()
    return api_key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The live key `raw` names (prefix found, secret verified, not revoked nor expired), else None."""
    prefix, _dot, secret = (raw or "").strip().partition(".")
    if not prefix or not secret:
        return None
    api_key = (
        ApiKey.objects.select_related("user", "organization").filter(prefix=prefix, revoked_at__isnull=True).first()
    )
    if api_key is None or not KEY_GENERATOR.verify(raw.strip(), api_key.hashed_key):
        return None
    now = timezone.now()
    if api_key.expires_at and api_key.expires_at <= now:
        return None
    if api_key.last_used_at is None or api_key.last_used_at <= now - LAST_USED_GRANULARITY:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
