"""Demo data for a fresh installation: one login, one organization, one active workflow."""

from dataclasses import dataclass

from django.db import transaction

from docg.orgs.choices import Role
from docg.orgs.models import Organization, User
from docg.orgs.services import organization_create, organization_register
from docg.workflows.models import Workflow
from docg.workflows.services import workflow_activate, workflow_create

DEMO_EMAIL = "demo@docg.local"
DEMO_PASSWORD = "docg-demo-2026"
DEMO_ORGANIZATION = "Demo Co"
DEMO_WORKFLOW = "Welcome contract"

DEMO_NODES = [
    {
        "key": "start",
        "kind": "trigger",
        "app": "webhook",
        "operation": "catch_hook",
        "label": "Contract requested",
        "parameters": {},
    },
    {
        "key": "prepare",
        "kind": "action",
        "app": "core",
        "operation": "set_variables",
        "label": "Prepare the contract data",
        "parameters": {
            "variables": {
                "customer": "{{ trigger.customer | default('Ana Souza') }}",
                "amount": "{{ trigger.amount | default(1500) }}",
            }
        },
    },
    {
        "key": "review",
        "kind": "action",
        "app": "core",
        "operation": "approval",
        "label": "Review",
        "parameters": {"message": "Approve the contract for {{ steps.prepare.customer }}?"},
    },
    {
        "key": "remember",
        "kind": "action",
        "app": "core",
        "operation": "datastore_set",
        "label": "Remember the customer",
        "parameters": {"key": "last_customer", "value": "{{ steps.prepare.customer }}"},
    },
]


@dataclass(frozen=True)
class DemoSeed:
    user: User
    organization: Organization
    workflow: Workflow
    created: list[str]


def _demo_user() -> tuple[User, Organization | None, bool]:
    user = User.objects.filter(email=DEMO_EMAIL).first()
    if user is None:
        user, organization = organization_register(
            email=DEMO_EMAIL, password=DEMO_PASSWORD, name="Demo User", organization_name=DEMO_ORGANIZATION
        )
        return user, organization, True
    return user, None, False


@transaction.atomic
def demo_seed() -> DemoSeed:
    """Create the demo login, its organization and an active sample workflow; reuse whatever already exists."""
    created = []
    user, organization, user_created = _demo_user()
    if user_created:
        created += ["user", "organization"]

    # The demo account is also the admin's way in; keep its documented password working.
    changed = []
    if not (user.is_staff and user.is_superuser and user.is_active):
        user.is_staff = user.is_superuser = user.is_active = True
        changed += ["is_staff", "is_superuser", "is_active"]
    if not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        changed.append("password")
    if changed:
        user.save(update_fields=changed)

    if organization is None:
        organization = Organization.objects.filter(
            name=DEMO_ORGANIZATION, memberships__user=user, memberships__role=Role.OWNER
        ).first()
    if organization is None:
        organization = organization_create(name=DEMO_ORGANIZATION, owner=user)
        created.append("organization")

    workflow = Workflow.objects.filter(organization=organization, name=DEMO_WORKFLOW).first()
    if workflow is None:
        workflow = workflow_create(
            organization=organization,
            by=user,
            name=DEMO_WORKFLOW,
            nodes=DEMO_NODES,
            description="A webhook starts it; a person approves the contract; docg remembers the customer.",
        )
        created.append("workflow")
    if workflow.active_version_id is None:
        workflow_activate(workflow=workflow, by=user)
        workflow.refresh_from_db()
        created.append("active version")
    return DemoSeed(user=user, organization=organization, workflow=workflow, created=created)
