from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log, user_actor
from docg.orgs.choices import Role
from docg.orgs.models import Membership, Organization, User


@transaction.atomic
def organization_register(*, email: str, password: str, name: str, organization_name: str) -> tuple[User, Organization]:
    """Create a user, their organization, and make them its owner."""
    user = User(email=email.strip().lower(), name=name)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    organization = organization_create(name=organization_name, owner=user)
    return user, organization


@transaction.atomic
def organization_create(*, name: str, owner: User, language: str | None = None) -> Organization:
    """Create an organization with `owner` as its first member."""
    organization = Organization(name=name)
    if language:
        organization.language = language
    organization.save()
    Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    audit_log(
        organization=organization,
        action=AuditAction.ORGANIZATION_CREATED,
        target_type="organization",
        target_id=organization.pk,
        metadata={"name": name},
        **user_actor(owner),
    )
    return organization


@transaction.atomic
def organization_update(*, organization: Organization, by: User, **changes) -> Organization:
    """Rename an organization or change its language."""
    allowed = {"name", "language"}
    changed = {k: v for k, v in changes.items() if k in allowed and getattr(organization, k) != v}
    for key, value in changed.items():
        setattr(organization, key, value)
    if changed:
        organization.save(update_fields=[*changed, "updated_at"])
        audit_log(
            organization=organization,
            action=AuditAction.ORGANIZATION_UPDATED,
            target_type="organization",
            target_id=organization.pk,
            metadata={"changed": sorted(changed)},
            **user_actor(by),
        )
    return organization


def membership_add(*, organization: Organization, user: User, role: str = Role.MEMBER) -> Membership:
    """Add `user` to `organization` (or change their role)."""
    membership, _ = Membership.objects.update_or_create(organization=organization, user=user, defaults={"role": role})
    return membership
