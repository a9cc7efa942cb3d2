"""Teams: invitations by email, members' roles, removing members. Every change is audited.

Owners and admins manage members; only an owner touches an owner (makes one, demotes or
removes one), and an organization always keeps at least one owner: the check runs with the
organization's owner rows locked, so two owners removing each other at once cannot both win.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log, user_actor
from docg.common.errors import DocgError
from docg.orgs.choices import MANAGER_ROLES, Role
from docg.orgs.models import Invitation, Membership, Organization, User
from docg.orgs.people import person_label

INVITATION_TTL = timedelta(days=7)


# --- reads -------------------------------------------------------------------------------------
def members_of(*, organization: Organization) -> QuerySet[Membership]:
    """The organization's people (API keys' principals are not members to list)."""
    return Membership.objects.filter(organization=organization, user__is_api_key=False).select_related("user")


def invitation_find(*, token: str) -> Invitation:
    """The invitation a token names, whatever its state; unknown tokens are a 404."""
    invitation = Invitation.objects.select_related("organization").filter(token_hash=_token_hash(token or "")).first()
    if invitation is None:
        raise DocgError("invitation_not_found", _("This invitation link is not valid."), status_code=404)
    return invitation


def invitation_check(invitation: Invitation) -> None:
    """Refuse an invitation that was used, revoked or has expired (each with its own code)."""
    status = invitation.status
    if status == "accepted":
        raise DocgError("invitation_used", _("This invitation was already used."), status_code=410)
    if status == "revoked":
        raise DocgError("invitation_revoked", _("This invitation was withdrawn."), status_code=410)
    if status == "expired":
        raise DocgError("invitation_expired", _("This invitation has expired: ask for a new one."), status_code=410)


# --- invitations -------------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    # The token is 256 random bits: a plain hash is enough, and lets the lookup be one indexed query.
    return hashlib.sha256(token.encode()).hexdigest()


def _require_rank(*, by: Membership, role: str) -> None:
    if by.role not in MANAGER_ROLES:
        raise DocgError("forbidden", _("Only owners and admins manage members."), status_code=403)
    if role == Role.OWNER and by.role != Role.OWNER:
        raise DocgError("forbidden", _("Only an owner can make someone an owner."), status_code=403)


@transaction.atomic
def invitation_create(*, organization: Organization, by: Membership, email: str, role: str) -> tuple[Invitation, str]:
    """Invite `email` with `role`; the email (with the one-time link) leaves after commit. Returns (row, token)."""
    _require_rank(by=by, role=role)
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email, is_api_key=True).exists():
        raise DocgError("invalid_email", _("This address belongs to an API key."), details={"email": [email]})
    if members_of(organization=organization).filter(user__email__iexact=email).exists():
        raise DocgError(
            "already_member", _("%(email)s is already a member.") % {"email": email}, details={"email": [email]}
        )
    # A new invitation replaces a pending one: only the latest link works.
    Invitation.objects.filter(
        organization=organization, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=by.user,
        expires_at=timezone.now() + INVITATION_TTL,
    )
    audit_log(
        organization=organization,
        action=AuditAction.MEMBER_INVITED,
        target_type="invitation",
        target_id=invitation.pk,
        metadata={"email": email, "role": role},
        **user_actor(by.user),
    )
    # robust: a mail server that is down must not turn a saved invitation into an error page (it is
    # logged; inviting again sends a new link).
    transaction.on_commit(lambda: invitation_send(invitation=invitation, token=token), robust=True)
    return invitation, token


def invitation_link(token: str) -> str:
    return settings.FRONTEND_URL.rstrip("/") + reverse("dashboard:invitation-accept", args=[token])


def invitation_send(*, invitation: Invitation, token: str) -> None:
    """Email the invitation through Django's email backend (EMAIL_URL; the console in `make run`).

    In the organization's language: the invitee has no preference docg knows of yet.
    """
    with translation.override(invitation.organization.language):
        _invitation_send(invitation, token)


def _invitation_send(invitation: Invitation, token: str) -> None:
    inviter = person_label(invitation.invited_by, by_name=True) or "docg"
    context = {
        "inviter": inviter,
        "organization": invitation.organization.name,
        "role": Role(invitation.role).label,
        "link": invitation_link(token),
        "expires": f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC",
    }
    subject = _("%(inviter)s invited you to %(organization)s on docg") % context
    body = (
        _(
            "%(inviter)s invited you to join %(organization)s on docg as %(role)s.\n\n"
            "Accept the invitation: %(link)s\n\n"
            "The link works once and expires on %(expires)s."
        )
        % context
    )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: Membership) -> Invitation:
    """Withdraw a pending invitation: its link stops working."""
    _require_rank(by=by, role=invitation.role)
    updated = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise DocgError("invitation_not_pending", _("Only a pending invitation can be withdrawn."), status_code=409)
    audit_log(
        organization=invitation.organization_id,
        action=AuditAction.INVITATION_REVOKED,
        target_type="invitation",
        target_id=invitation.pk,
        metadata={"email": invitation.email},
        **user_actor(by.user),
    )
    invitation.refresh_from_db()
    return invitation


@transaction.atomic
def invitation_accept(
    *, token: str, user: User | None = None, name: str = "", password: str = ""
) -> tuple[Membership, bool]:
    """Use an invitation: add the membership to the invited account, creating the account if there is none.

    `user` is the signed-in caller, if any: it must be the invited address. Without an account, `name`
    and `password` create it. Returns (membership, account_created). The row is locked, so a link
    clicked twice at once is used once.
    """
    found = invitation_find(token=token)
    invitation = Invitation.objects.select_for_update().select_related("organization").get(pk=found.pk)
    invitation_check(invitation)
    if user is not None and user.is_authenticated and user.email.lower() != invitation.email.lower():
        raise DocgError(
            "invitation_other_email",
            _("This invitation is for %(email)s: sign in with that account to accept it.")
            % {"email": invitation.email},
            status_code=403,
        )
    account = User.objects.filter(email__iexact=invitation.email, is_api_key=False).first()
    created = account is None
    if created:
        if not name.strip() or not password:
            raise DocgError(
                "account_details_required",
                _("Choose your name and a password to create your account."),
                details={"name": ["required"], "password": ["required"]},
            )
        account = User(email=invitation.email, name=name.strip())
        try:
            validate_password(password, account)
        except DjangoValidationError as exc:
            raise DocgError(
                "invalid_password", " ".join(exc.messages), details={"password": list(exc.messages)}
            ) from exc
        account.set_password(password)
        account.save()
    membership, joined = Membership.objects.get_or_create(
        organization=invitation.organization, user=account, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = account
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_log(
        organization=invitation.organization,
        action=AuditAction.MEMBER_JOINED,
        target_type="membership",
        target_id=membership.pk,
        metadata={"email": account.email, "role": membership.role, "invitation": str(invitation.pk), "new": joined},
        **user_actor(account),
    )
    return membership, created


# --- members -----------------------------------------------------------------------------------
def _lock(membership: Membership, by: Membership) -> tuple[Membership, Membership, list[Membership]]:
    """Lock the organization's owner rows, then the target; return (target, by, owners), all read afresh.

    Owners are always locked first and in pk order, so two owners changing each other at once
    queue up instead of deadlocking, and the second sees the first one's result.
    """
    owners = list(
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role=Role.OWNER, user__is_api_key=False)
        .order_by("pk")
    )
    target = Membership.objects.select_for_update().select_related("user").filter(pk=membership.pk).first()
    by = Membership.objects.select_related("user").filter(pk=by.pk).first()
    if target is None:
        raise DocgError("not_found", _("Not found."), status_code=404)
    if by is None:
        raise DocgError("forbidden", _("Only owners and admins manage members."), status_code=403)
    return target, by, owners


def _require_can_touch(*, target: Membership, by: Membership, new_role: str | None = None) -> None:
    _require_rank(by=by, role=new_role or Role.MEMBER)
    if target.role == Role.OWNER and by.role != Role.OWNER:
        raise DocgError("forbidden", _("Only an owner can change or remove an owner."), status_code=403)


def _require_other_owner(target: Membership, owners: list[Membership]) -> None:
    if target.role == Role.OWNER and [o.pk for o in owners] == [target.pk]:
        raise DocgError(
            "last_owner", _("An organization needs an owner: make someone else owner first."), status_code=409
        )


@transaction.atomic
def member_role_change(*, membership: Membership, by: Membership, role: str) -> Membership:
    """Give a member another role (the last owner stays owner)."""
    membership, by, owners = _lock(membership, by)
    _require_can_touch(target=membership, by=by, new_role=role)
    if membership.role == role:
        return membership
    if role != Role.OWNER:
        _require_other_owner(membership, owners)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_log(
        organization=membership.organization_id,
        action=AuditAction.MEMBER_ROLE_CHANGED,
        target_type="membership",
        target_id=membership.pk,
        metadata={"email": membership.user.email, "from": old, "to": role},
        **user_actor(by.user),
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, by: Membership) -> None:
    """Take a member out of the organization (never the last owner). Members may also leave themselves."""
    membership, by, owners = _lock(membership, by)
    if membership.pk != by.pk:
        _require_can_touch(target=membership, by=by)
    _require_other_owner(membership, owners)
    audit_log(
        organization=membership.organization_id,
        action=AuditAction.MEMBER_REMOVED,
        target_type="membership",
        target_id=membership.pk,
        metadata={"email": membership.user.email, "role": membership.role},
        **user_actor(by.user),
    )
    membership.delete()
