"""Tell an approval's approvers by e-mail that a run waits for them, with a link to decide it."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from docg.executions.models import WorkflowApproval

logger = logging.getLogger(__name__)


def approvers_notify_on_commit(approval: WorkflowApproval) -> None:
    """After the approval is committed (a rolled-back step asks nobody), e-mail each listed approver."""
    if approval.approvers:
        transaction.on_commit(lambda: approvers_notify(approval.pk))


def approvers_notify(approval_id) -> None:
    approval = WorkflowApproval.objects.select_related("execution__workflow", "organization").get(pk=approval_id)
    link = f"{settings.FRONTEND_URL.rstrip('/')}{reverse('dashboard:approvals')}#approval-{approval.pk}"
    with translation.override(approval.organization.language):
        subject = gettext("Approval needed: %(workflow)s") % {"workflow": approval.execution.workflow.name}
        body = gettext(
            "A run of %(workflow)s waits for your decision:\n\n%(message)s\n\nApprove or reject it here: %(link)s"
        ) % {
            "workflow": approval.execution.workflow.name,
            "message": approval.message,
            "link": link,
        }
    try:
        send_mail(subject, body, None, list(approval.approvers))
    except Exception:  # a mail server down must not fail the run: the inbox still lists the approval
        logger.exception("Could not e-mail the approvers of approval %s.", approval.pk)
