import logging

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _

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


logger = logging.getLogger(__name__)


@transaction.atomic
def registration_request(*, email: str, password: str, name: str, organization_name: str) -> User | None:
    """Register a new user and organization; for a taken email, change nothing and tell its owner by email.

    The caller answers the same either way, so registration never reveals whether an address has an
    account. The password is hashed in both cases, so the answer takes as long too. Returns the new
    user, or None when the email was taken.
    """
    email = email.strip().lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        return organization_register(email=email, password=password, name=name, organization_name=organization_name)[0]
    make_password(password)
    transaction.on_commit(lambda: _tell_owner_of_attempt(existing.email))
    return None


def _tell_owner_of_attempt(email: str) -> None:
    login = f"{settings.FRONTEND_URL.rstrip('/')}/login/"
    body = _(
        "Someone tried to create a docg account with this email address, which already has a docg account.\n\n"
        "If it was you, sign in at %(login)s instead. If it was not, you can ignore this email: "
        "nothing was changed."
    ) % {"login": login}
    try:
        send_mail(_("Your docg account"), body, None, [email])
    except Exception:  # a mail outage must not turn the (already answered) request into an error
        logger.exception("Could not send the registration notice")


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
