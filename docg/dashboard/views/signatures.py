"""Signatures: the envelopes still waiting (filterable by age) and a reminder button; the run page's signers panel."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from docg.common.errors import DocgError
from docg.dashboard.context import can_write, dashboard_view, member_object, require_write
from docg.documents.choices import SignatureStatus
from docg.documents.models import SignatureRequest
from docg.executions.envelopes import envelope_remind
from docg.executions.signature_state import signer_state

# "Waiting for more than …": the age filter's choices, in days.
AGES = [
    ("", gettext_lazy("Any age")),
    ("1", gettext_lazy("More than a day")),
    ("3", gettext_lazy("More than 3 days")),
    ("7", gettext_lazy("More than a week")),
]


def signers_panel(signature_state: dict | None) -> list[dict]:
    """The run page's signers panel: the envelopes of `signature_state`, as the template shows them."""
    return list((signature_state or {}).get("envelopes") or [])


def _waiting(request: HttpRequest, age: str):
    rows = SignatureRequest.objects.filter(
        organization=request.organization, status=SignatureStatus.PENDING
    ).select_related("execution__workflow")
    if age:
        rows = rows.filter(created_at__lte=timezone.now() - timedelta(days=int(age)))
    return rows.order_by("created_at", "id")


@require_safe
@dashboard_view
def signatures(request: HttpRequest) -> HttpResponse:
    """The signers still waiting, oldest first, with a reminder button per envelope."""
    age = request.GET.get("age", "")
    if age not in {value for value, _label in AGES}:
        age = ""
    page = Paginator(_waiting(request, age), 25).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.state = signer_state(row)
    context = {"page": page, "age": age, "ages": AGES, "can_write": can_write(request)}
    return render(request, "dashboard/signatures/list.html", context)


@require_POST
@dashboard_view
def signature_remind(request: HttpRequest, pk) -> HttpResponse:
    """Ask the provider to e-mail the envelope's pending signers again; back where the button was."""
    require_write(request)
    signature_request = member_object(request, SignatureRequest.objects.all(), pk=pk)
    try:
        envelope_remind(request=signature_request, by=request.user)
    except DocgError as exc:
        messages.error(request, exc.human)
    else:
        messages.success(request, _("Reminder sent: the signers who have not signed yet get the e-mail again."))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("dashboard:signatures")
