"""Approvals inbox: runs waiting on a person, decided here with an optional comment."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from docg.common.errors import DocgError
from docg.dashboard.context import can_write, dashboard_view, member_object, require_write
from docg.documents.models import GeneratedDocument
from docg.executions import control
from docg.executions.choices import ApprovalStatus
from docg.executions.models import WorkflowApproval
from docg.executions.selectors import approvals_with_execution
from docg.executions.state import IllegalTransition, TransitionConflict

COMMENT_MAX = 5000
TABS = ("pending", "decided")


def _documents():
    return GeneratedDocument.objects.order_by("-created_at").only(
        "id", "name", "content_type", "execution_id", "created_at"
    )


def _inbox(request: HttpRequest, tab: str):
    documents = _documents()
    approvals = (
        approvals_with_execution()
        .filter(organization=request.organization)
        .select_related("execution__workflow", "decided_by")
        .prefetch_related(Prefetch("execution__documents", queryset=documents, to_attr="document_list"))
    )
    if tab == "pending":
        return approvals.filter(status=ApprovalStatus.PENDING)
    return approvals.exclude(status=ApprovalStatus.PENDING).order_by(
        F("decided_at").desc(nulls_last=True), "-created_at"
    )


@require_safe
@dashboard_view
def approvals(request: HttpRequest) -> HttpResponse:
    """Pending approvals first (oldest waiting at the top), decided ones under their own tab."""
    tab = request.GET.get("tab", "pending")
    return _render_inbox(request, tab if tab in TABS else "pending")


def _render_inbox(request: HttpRequest, tab: str, *, status: int = 200) -> HttpResponse:
    rows = _inbox(request, tab)
    if tab == "pending":
        rows = rows.order_by("created_at")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    # The paginator has counted the pending tab already: no second COUNT for the badge.
    pending_count = page.paginator.count if tab == "pending" else _inbox(request, "pending").count()
    return render(
        request,
        "dashboard/approvals/list.html",
        {"page": page, "tab": tab, "pending_count": pending_count, "comment_max": COMMENT_MAX},
        status=status,
    )


def _answer(request: HttpRequest, approval, *, error: str = "", status: int = 200) -> HttpResponse:
    """htmx swaps the card in place; a plain form post goes back to the inbox with a message.

    htmx does not swap 4xx answers, so its refusals come back as 200 with the error in the card.
    """
    if request.htmx:
        pending = approval.status == ApprovalStatus.PENDING
        template = "dashboard/approvals/_card.html" if pending else "dashboard/approvals/_decided.html"
        approval.execution.document_list = list(_documents().filter(execution_id=approval.execution_id))
        context = {
            "approval": approval,
            "error": error,
            "comment_max": COMMENT_MAX,
            "can_write": can_write(request),
            # The tab's counter is swapped out of band, so it agrees with the inbox without a reload.
            "pending_count": _inbox(request, "pending").count(),
        }
        return render(request, template, context)
    # The run page's form comes back to the run page; the inbox's to the inbox.
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = ""
    if error:
        messages.error(request, error)
        return redirect(back) if back else _render_inbox(request, "pending", status=status)
    if approval.status == ApprovalStatus.APPROVED:
        messages.success(request, _("Approved: the run goes on."))
    else:
        messages.success(request, _("Rejected: the run was stopped."))
    return redirect(back or "dashboard:approvals")


@require_POST
@dashboard_view
def approval_decide(request: HttpRequest, pk) -> HttpResponse:
    """Approve or reject one pending approval; anything already decided or moved on is a clear refusal."""
    require_write(request)
    approval = member_object(request, WorkflowApproval.objects.select_related("execution__workflow"), pk=pk)
    decision = request.POST.get("decision", "")
    comment = request.POST.get("comment", "").strip()
    if decision not in ("approve", "reject"):
        return _answer(request, approval, error=_("Choose Approve or Reject."), status=400)
    if len(comment) > COMMENT_MAX:
        return _answer(
            request, approval, error=_("The comment is too long (at most %(n)s characters).") % {"n": COMMENT_MAX},
            status=400,
        )  # fmt: skip
    try:
        approval = control.approval_decide(
            approval=approval, by=request.user, approved=decision == "approve", comment=comment
        )
    except DocgError as exc:
        approval.refresh_from_db()
        if exc.status_code == 403:  # not one of its approvers: say who may decide
            return _answer(request, approval, error=exc.message, status=403)
        return _answer(
            request,
            approval,
            error=_("This approval can no longer be decided: %(why)s") % {"why": exc.message},
            status=409,
        )
    except (IllegalTransition, TransitionConflict):
        approval.refresh_from_db()
        return _answer(
            request, approval, error=_("The run changed meanwhile; reload the page and try again."), status=409
        )
    return _answer(request, approval)
