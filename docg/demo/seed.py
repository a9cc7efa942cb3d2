"""Demo data for a fresh installation (`make run`): a login, an organization that shows the product.

The "Demo Co" organization gets a contract template (docg/demo/documents.py),
three workflows built only from connectors that need no outside service, and a
few past runs in different states. The runs go through the real engine, their
queue messages run in this process (docg.executions.dispatch's inline mode), so
their steps, logs, state changes and audit rows are what a real run leaves, and
no worker elsewhere races the seed for them. Everything is looked up first (by
name, or by the deal number a run received): seeding again adds nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction

from docg.audit.choices import ActorType
from docg.common.errors import DocgError
from docg.demo.documents import demo_template, sample_items
from docg.documents.models import Template
from docg.executions import dispatch
from docg.executions.engine import execution_start
from docg.executions.models import WorkflowExecution
from docg.orgs.choices import Role
from docg.orgs.models import Organization, User
from docg.orgs.services import organization_create, organization_register
from docg.workflows.choices import WorkflowStatus
from docg.workflows.models import Workflow
from docg.workflows.services import workflow_activate, workflow_create

DEMO_EMAIL = "demo@docg.local"
DEMO_PASSWORD = "docg-demo-2026"
DEMO_ORGANIZATION = "Demo Co"

CONTRACT_WORKFLOW = "Sales contract"
QUOTE_WORKFLOW = "Quote request"
RENEWAL_WORKFLOW = "Renewal reminder"
DEMO_WORKFLOW = CONTRACT_WORKFLOW  # the one the README points at


def _trigger(label: str) -> dict:
    return {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook", "label": label}


def _action(key: str, app_operation: str, label: str, flow: dict | None = None, /, **parameters) -> dict:
    app, operation = app_operation.split(".")
    node = {"key": key, "kind": "action", "app": app, "operation": operation, "label": label}
    return {**node, "parameters": parameters, **(flow or {})}


def _render(template: Template, filename: str) -> dict:
    # No `data` parameter: the template sees the webhook's body, so preflight can check it before the run.
    return _action(
        "render", "docx.render", "Fill the contract template", template_id=str(template.pk), filename=filename
    )


def contract_nodes(template: Template) -> list[dict]:
    """Deal won → contract drafted → a manager approves → PDF → remembered."""
    names = {
        "filename": "Contract {{ trigger.deal.number }} - {{ trigger.client.name }}",
        "summary": "{{ trigger.client.name }}, {{ trigger.deal.amount | currency('USD') }}",
    }
    question = "Approve the contract for {{ steps.prepare.summary }}? The draft is attached to this run."
    document, deal = "{{ steps.render.document_id }}", "{{ trigger.deal.number }}"
    return [
        _trigger("Deal won in the CRM"),
        _action("prepare", "core.set_variables", "Name the contract", variables=names),
        _render(template, "{{ steps.prepare.filename }}"),
        _action("approve", "core.approval", "Manager approval", message=question),
        _action("pdf", "pdf.convert", "Convert to PDF", document_id=document, filename="{{ steps.prepare.filename }}"),
        _action("remember", "core.datastore_set", "Remember the contract", key="last_contract", value=deal),
    ]


def quote_nodes(template: Template) -> list[dict]:
    """A quote request is checked, then filled in; a zero amount stops it with a message people can act on."""
    branches = {"branches": [{"when": "trigger.deal.amount <= 0", "next": "reject"}], "else": "render"}
    refusal = "The quote amount must be greater than zero. Fix the amount in the CRM and send the quote request again."
    deal = "{{ trigger.deal.number }}"
    return [
        _trigger("Quote requested on the website"),
        _action("check", "core.branch", "Is the amount valid?", branches),
        _action("reject", "core.fail", "Refuse an empty quote", code="data.invalid", message=refusal),
        _render(template, "Quote {{ trigger.deal.number }} - {{ trigger.client.name }}"),
        _action("remember", "core.datastore_set", "Remember the quote", key="last_quote", value=deal),
    ]


def renewal_nodes(template: Template) -> list[dict]:
    """A draft to finish: renewals due get a new contract as PDF."""
    due = "{{ trigger.deal.renewal_due | default(false) }}"
    return [
        _trigger("Renewal date reached"),
        _action("due", "core.filter", "Only renewals that are due", condition=due),
        _render(template, "Renewal {{ trigger.deal.number }} - {{ trigger.client.name }}"),
        _action("pdf", "pdf.convert", "Convert to PDF", document_id="{{ steps.render.document_id }}"),
    ]


@dataclass(frozen=True)
class DemoWorkflow:
    name: str
    description: str
    nodes: Callable[[Template], list[dict]]
    active: bool


DEMO_WORKFLOWS = [
    DemoWorkflow(
        CONTRACT_WORKFLOW,
        "A won deal becomes a contract: docg fills the template, a manager approves it, docg makes the PDF.",
        contract_nodes,
        active=True,
    ),
    DemoWorkflow(
        QUOTE_WORKFLOW,
        "A quote request from the website is checked and filled into the contract template.",
        quote_nodes,
        active=True,
    ),
    DemoWorkflow(
        RENEWAL_WORKFLOW, "Draft: renewals that are due get a new contract as PDF.", renewal_nodes, active=False
    ),
]


def _due_in(days: int) -> str:
    # Relative to the day of seeding, so the demo's contracts are never already overdue.
    return (date.today() + timedelta(days=days)).isoformat()


_NORTHWIND = sample_items(
    ("Onboarding workshop", 1, 2400), ("Document automation licence (months)", 12, 350), ("Premium support", 1, 1800)
)
_LUMEN = sample_items(("Template design", 2, 450), ("Document automation licence (months)", 6, 350))


@dataclass(frozen=True)
class DemoRunSpec:
    """A past run: which workflow, the webhook body it received, and the state it should end in.

    Listed oldest first: the run waiting for a decision is the newest, at the top of the list.
    """

    workflow: str
    status: str
    trigger_data: dict

    @property
    def reference(self) -> str:
        return self.trigger_data["deal"]["number"]


DEMO_RUNS = [
    DemoRunSpec(
        QUOTE_WORKFLOW,
        "completed",
        {
            "client": {
                "name": "Lumen Dental Clinic",
                "email": "office@lumen-dental.example",
                "contact": "Dr. Maya Chen",
            },
            "deal": {"number": "Q-2041", "amount": 3000, "due_date": _due_in(30)},
            "items": _LUMEN,
        },
    ),
    DemoRunSpec(
        QUOTE_WORKFLOW,
        "failed",
        {
            "client": {"name": "Cobalt Bikes", "email": "buying@cobalt-bikes.example"},
            "deal": {"number": "Q-2042", "amount": 0, "due_date": _due_in(30)},
            "items": [],
        },
    ),
    # The CRM sent this deal without the client's e-mail: preflight stops it before anything is made.
    DemoRunSpec(
        CONTRACT_WORKFLOW,
        "needs_review",
        {
            "client": {"name": "Blue Harbor Logistics"},
            "deal": {"number": "D-1042", "amount": 5200, "due_date": _due_in(45)},
            "items": sample_items(("Document automation licence (months)", 12, 350), ("Onboarding workshop", 1, 1000)),
        },
    ),
    DemoRunSpec(
        CONTRACT_WORKFLOW,
        "paused",
        {
            "client": {"name": "Northwind Traders", "email": "legal@northwind.example", "contact": "Rafael Costa"},
            "deal": {
                "number": "D-1043",
                "amount": 8400,
                "due_date": _due_in(45),
                "notes": "The first three months are billed together.",
            },
            "items": _NORTHWIND,
        },
    ),
]


@dataclass
class DemoSeed:
    user: User
    organization: Organization
    template: Template
    workflows: dict[str, Workflow]
    runs: list[WorkflowExecution]
    created: list[str]
    skipped: list[str] = field(default_factory=list)

    @property
    def workflow(self) -> Workflow:
        return self.workflows[DEMO_WORKFLOW]


@transaction.atomic
def _demo_account(created: list[str]) -> tuple[User, Organization]:
    user = User.objects.filter(email=DEMO_EMAIL).first()
    organization = None
    registered = user is None
    if registered:
        user, organization = organization_register(
            email=DEMO_EMAIL, password=DEMO_PASSWORD, name="Demo User", organization_name=DEMO_ORGANIZATION
        )
        created += ["user", "organization"]

    # The demo account is also the admin's way in; keep its documented password working.
    changed = []
    if not (user.is_staff and user.is_superuser and user.is_active):
        user.is_staff = user.is_superuser = user.is_active = True
        changed += ["is_staff", "is_superuser", "is_active"]
    # Hashing costs a quarter of a second: a user registered just now has the right password.
    if not registered and not user.check_password(DEMO_PASSWORD):
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
    return user, organization


def _demo_workflow(
    spec: DemoWorkflow, *, organization: Organization, user: User, template: Template, created: list[str]
):
    workflow = Workflow.objects.filter(organization=organization, name=spec.name).first()
    if workflow is None:
        workflow = workflow_create(
            organization=organization, by=user, name=spec.name, nodes=spec.nodes(template), description=spec.description
        )
        created.append(f"workflow '{spec.name}'")
    # Activated once; a workflow someone deactivated since stays as they left it.
    if spec.active and workflow.active_version_id is None and workflow.status == WorkflowStatus.DRAFT:
        workflow_activate(workflow=workflow, by=user)
        workflow.refresh_from_db()
    return workflow


def demo_run(*, workflow: Workflow, trigger_data: dict) -> tuple[WorkflowExecution | None, str]:
    """The run of `workflow` for this deal: found, or started as its webhook would and run to rest in this process.

    Returns (execution, "") when it existed, (execution, "created") when made now,
    and (None, reason) when it cannot be made (the workflow is not active, the plan's limit).
    """
    number = trigger_data["deal"]["number"]
    existing = WorkflowExecution.objects.filter(workflow=workflow, trigger_data__deal__number=number).first()
    if existing is not None:
        return existing, ""
    try:
        with dispatch.inline():
            execution = execution_start(workflow=workflow, trigger_data=trigger_data, actor_type=ActorType.WEBHOOK)
    except DocgError as exc:
        return None, exc.message
    execution.refresh_from_db()
    return execution, "created"


def demo_seed() -> DemoSeed:
    """Create whatever of the demo is missing: login, organization, template, workflows, past runs."""
    created: list[str] = []
    user, organization = _demo_account(created)
    # Uploads store the file before their transaction (storage may be S3): not inside an outer one.
    template, made = demo_template(organization=organization, by=user)
    if made:
        created.append(f"template '{template.name}'")
    workflows = {
        spec.name: _demo_workflow(spec, organization=organization, user=user, template=template, created=created)
        for spec in DEMO_WORKFLOWS
    }
    runs, skipped = [], []
    for spec in DEMO_RUNS:
        execution, outcome = demo_run(workflow=workflows[spec.workflow], trigger_data=spec.trigger_data)
        if execution is None:
            skipped.append(f"run {spec.reference}: {outcome}")
            continue
        runs.append(execution)
        if outcome == "created":
            created.append(f"run {spec.reference} ({execution.status})")
    return DemoSeed(
        user=user,
        organization=organization,
        template=template,
        workflows=workflows,
        runs=runs,
        created=created,
        skipped=skipped,
    )
