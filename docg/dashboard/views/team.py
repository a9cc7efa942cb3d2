"""Teams in the dashboard: members and invitations, API keys, another organization, accepting an invitation.

The same services as the REST API (docg/orgs/members.py, docg/orgs/api_keys.py) make every
decision; a refusal (DocgError) comes back as a message on the page.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from docg.common.api.throttling import CREDENTIAL_THROTTLES
from docg.common.errors import DocgError
from docg.dashboard.context import can_manage, dashboard_view, member_object
from docg.orgs import tenancy
from docg.orgs.api_keys import api_key_create, api_key_revoke, api_keys_of
from docg.orgs.choices import Role
from docg.orgs.members import (
    invitation_accept,
    invitation_check,
    invitation_create,
    invitation_find,
    invitation_revoke,
    member_remove,
    member_role_change,
    members_of,
)
from docg.orgs.models import ApiKey, Invitation, Membership, User
from docg.orgs.services import organization_create


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices, initial=Role.MEMBER)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices, initial=Role.MEMBER)
    expires_at = forms.DateTimeField(
        label=gettext_lazy("Expires (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class OrganizationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)


class AcceptForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=200)
    password = forms.CharField(label=gettext_lazy("Password"), max_length=128, strip=False, widget=forms.PasswordInput)


def _throttled(request: HttpRequest) -> DocgError | None:
    """The API's credential throttles (per client address, per email or token) for a dashboard form post."""
    throttles = [throttle() for throttle in CREDENTIAL_THROTTLES]
    refused = [t for t in throttles if not t.allow_request(request, None)]
    if not refused:
        return None
    wait = max(int(t.wait() or 1) for t in refused)
    return DocgError("throttled", _("Too many attempts. Try again in %(n)d seconds.") % {"n": wait}, status_code=429)


def _require_manage(request: HttpRequest) -> None:
    if not can_manage(request):
        raise Http404("Not available for your role.")


@require_safe
@dashboard_view
def members(request: HttpRequest) -> HttpResponse:
    """GET /members/: the people, their roles, and (for owners and admins) the invitations."""
    invitations = Invitation.objects.none()
    if can_manage(request):
        invitations = Invitation.objects.filter(organization=request.organization).select_related("invited_by")[:50]
    return render(
        request,
        "dashboard/team/members.html",
        {
            "members": members_of(organization=request.organization).order_by("user__email"),
            "invitations": invitations,
            "roles": Role.choices,
            "form": InviteForm(),
        },
    )


def _refused(request: HttpRequest, exc: DocgError) -> None:
    messages.error(request, exc.message)


@require_POST
@dashboard_view
def member_invite(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    refused = _throttled(request)
    if refused is not None:
        messages.error(request, refused.message)
        return redirect("dashboard:members")
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a valid email address and role."))
        return redirect("dashboard:members")
    try:
        invitation, _token = invitation_create(
            organization=request.organization, by=request.membership, **form.cleaned_data
        )
    except DocgError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
    return redirect("dashboard:members")


@require_POST
@dashboard_view
def invitation_withdraw(request: HttpRequest, invitation_id) -> HttpResponse:
    _require_manage(request)
    invitation = member_object(request, Invitation.objects.all(), pk=invitation_id)
    try:
        invitation_revoke(invitation=invitation, by=request.membership)
    except DocgError as exc:
        _refused(request, exc)
    return redirect("dashboard:members")


@require_POST
@dashboard_view
def member_role(request: HttpRequest, membership_id) -> HttpResponse:
    _require_manage(request)
    membership = member_object(request, Membership.objects.filter(user__is_api_key=False), pk=membership_id)
    role = request.POST.get("role", "")
    if role not in Role.values:
        raise Http404("No such role.")
    try:
        member_role_change(membership=membership, by=request.membership, role=role)
    except DocgError as exc:
        _refused(request, exc)
    return redirect("dashboard:members")


@require_POST
@dashboard_view
def member_delete(request: HttpRequest, membership_id) -> HttpResponse:
    membership = member_object(request, Membership.objects.filter(user__is_api_key=False), pk=membership_id)
    if membership.pk != request.membership.pk:
        _require_manage(request)
    try:
        member_remove(membership=membership, by=request.membership)
    except DocgError as exc:
        _refused(request, exc)
        return redirect("dashboard:members")
    if membership.pk == request.membership.pk:
        return redirect("dashboard:home")
    return redirect("dashboard:members")


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_view
def api_keys(request: HttpRequest) -> HttpResponse:
    """GET/POST /api-keys/: the organization's keys; a new key is shown on this one answer only."""
    _require_manage(request)
    form = ApiKeyForm(request.POST or None)
    created_key = ""
    if request.method == "POST" and form.is_valid():
        try:
            _api_key, created_key = api_key_create(
                organization=request.organization, by=request.membership, **form.cleaned_data
            )
        except DocgError as exc:
            _refused(request, exc)
        else:
            form = ApiKeyForm()
    return render(
        request,
        "dashboard/team/api_keys.html",
        {
            "keys": api_keys_of(organization=request.organization).select_related("created_by"),
            "form": form,
            "created_key": created_key,
        },
    )


@require_POST
@dashboard_view
def api_key_delete(request: HttpRequest, key_id) -> HttpResponse:
    _require_manage(request)
    api_key = member_object(request, ApiKey.objects.all(), pk=key_id)
    api_key_revoke(api_key=api_key, by=request.membership)
    messages.success(request, _("The key %(name)s is revoked.") % {"name": api_key.name})
    return redirect("dashboard:api-keys")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def organization_new(request: HttpRequest) -> HttpResponse:
    """GET/POST /organizations/new/: create an organization, owned by the user, and switch to it.

    Not a `dashboard_view`: a user without any organization (all left, or never had one) starts here.
    """
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organization = organization_create(name=form.cleaned_data["name"], owner=request.user)
        request._docg_memberships = None  # the cached list predates the new membership
        tenancy.session_choose(request, organization.pk)
        messages.success(request, _("%(name)s is ready.") % {"name": organization.name})
        return redirect("dashboard:home")
    return render(request, "dashboard/team/organization_new.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    """GET/POST /invitations/<token>/: see the invitation and accept it (creating the account if needed)."""
    try:
        invitation = invitation_find(token=token)
        invitation_check(invitation)
    except DocgError as exc:
        return render(request, "dashboard/team/invitation.html", {"error": exc}, status=exc.status_code)
    has_account = User.objects.filter(email__iexact=invitation.email, is_api_key=False).exists()
    signed_in = request.user.is_authenticated
    other_user = signed_in and request.user.email.lower() != invitation.email.lower()
    form = AcceptForm(request.POST or None) if not has_account else None
    error = None
    if request.method == "POST" and (refused := _throttled(request)) is not None:
        error = refused
    elif request.method == "POST" and not other_user and (form is None or form.is_valid()):
        details = form.cleaned_data if form is not None else {}
        try:
            membership, created = invitation_accept(token=token, user=request.user if signed_in else None, **details)
        except DocgError as exc:
            error = exc
        else:
            if created or signed_in:
                if created:
                    login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
                request._docg_memberships = None  # a cached list would predate the new membership
                tenancy.session_choose(request, membership.organization_id)
                return redirect("dashboard:home")
            messages.success(
                request, _("You joined %(name)s: sign in to continue.") % {"name": membership.organization.name}
            )
            return redirect(f"{reverse('dashboard:login')}?next=/")
    return render(
        request,
        "dashboard/team/invitation.html",
        {"invitation": invitation, "form": form, "other_user": other_user, "error": error, "has_account": has_account},
        status=429 if error is not None and error.code == "throttled" else 200,
    )
