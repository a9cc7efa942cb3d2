"""What a business user finds after `make run`: the demo organization seeded by `manage.py seed_demo`."""

import io

import pytest
from django.core.management import call_command

from docg.audit.models import AuditEvent
from docg.audit.services import audit_verify
from docg.demo.documents import REQUIRED_VARIABLES
from docg.demo.seed import CONTRACT_WORKFLOW, DEMO_RUNS, QUOTE_WORKFLOW, RENEWAL_WORKFLOW, demo_seed
from docg.documents.models import GeneratedDocument, Template, TemplateVersion
from docg.executions import dispatch
from docg.executions.choices import ApprovalStatus, ExecutionStatus, StepStatus
from docg.executions.models import ExecutionLog, ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.orgs.models import Membership, Organization, User
from docg.workflows import graph
from docg.workflows.choices import WorkflowStatus
from docg.workflows.models import Workflow, WorkflowDatastore, WorkflowNode, WorkflowVersion

pytestmark = pytest.mark.django_db

MODELS = [
    User, Organization, Membership, Template, TemplateVersion, Workflow, WorkflowVersion, WorkflowExecution,
    ExecutionStep, ExecutionLog, WorkflowApproval, GeneratedDocument, WorkflowDatastore, AuditEvent,
]  # fmt: skip


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def runs_by_deal() -> dict[str, WorkflowExecution]:
    return {e.trigger_data["deal"]["number"]: e for e in WorkflowExecution.objects.select_related("workflow")}


def test_seeding_again_adds_nothing():
    first = seed()
    after_first = counts()
    second = seed()

    assert "template 'Services contract'" in first and "run D-1043 (paused)" in first
    assert "nothing new" in second
    assert counts() == after_first
    assert after_first["Workflow"] == 3 and after_first["WorkflowExecution"] == len(DEMO_RUNS) == 4
    assert "Workflows: Sales contract (active), Quote request (active), Renewal reminder (draft)." in second
    assert "Past runs: 1 completed, 1 failed, 1 needs_review, 1 paused." in second


def test_template_is_a_docx_whose_variables_and_loop_were_detected():
    template = demo_seed().template

    assert (template.kind, template.version, template.lint_errors) == ("docx", 1, [])
    names = [v["name"] for v in template.variables]
    # Optional inputs (under `default` / `is defined`) are listed too; loop variables are not data.
    assert names == sorted([*REQUIRED_VARIABLES, "client.contact", "deal.notes"])
    assert not any(name.startswith("item.") for name in names)
    version = template.versions.get()
    assert version.file.name.endswith("services-contract.docx") and version.sha256 == template.sha256


def test_active_workflow_with_an_approval_is_valid_and_the_draft_stays_a_draft():
    workflows = demo_seed().workflows
    contract = workflows[CONTRACT_WORKFLOW]

    assert contract.status == WorkflowStatus.ACTIVE and contract.active_version.number == 1
    nodes = contract.active_version.definition["nodes"]
    assert graph.activation_errors(nodes) == []
    assert [f"{n['app']}.{n['operation']}" for n in nodes] == [
        "webhook.catch_hook", "core.set_variables", "docx.render", "core.approval", "pdf.convert",
        "core.datastore_set",
    ]  # fmt: skip
    assert nodes[2]["parameters"]["template_id"] == str(Template.objects.get().pk)
    assert workflows[QUOTE_WORKFLOW].status == WorkflowStatus.ACTIVE
    renewal = workflows[RENEWAL_WORKFLOW]
    assert (renewal.status, renewal.active_version) == (WorkflowStatus.DRAFT, None)
    # Only connectors that need no outside service or account.
    assert set(WorkflowNode.objects.values_list("app", flat=True)) == {"webhook", "core", "docx", "pdf"}
    assert not WorkflowNode.objects.filter(connection__isnull=False).exists()


def test_runs_end_in_the_listed_states_through_the_engine():
    demo_seed()
    runs = runs_by_deal()

    assert {deal: run.status for deal, run in runs.items()} == {spec.reference: spec.status for spec in DEMO_RUNS}

    completed = runs["Q-2041"]
    assert completed.progress == 100 and completed.completed_at is not None
    [document] = GeneratedDocument.objects.filter(execution=completed)
    assert document.name == "Quote Q-2041 - Lumen Dental Clinic.docx" and document.size_bytes > 0
    assert WorkflowDatastore.objects.get(key="last_quote").value == "Q-2041"

    failed = runs["Q-2042"]
    assert failed.last_error_code == "data.invalid"
    assert failed.last_error_human.startswith("The quote amount must be greater than zero.")
    assert failed.steps.get(node_key="reject").status == StepStatus.FAILURE
    assert not failed.steps.filter(node_key="render").exists()

    review = runs["D-1042"]
    [blocking] = review.preflight_summary["blocking"]
    assert (blocking["code"], blocking["missing"]) == ("data.unresolved_variables", ["client.email"])
    assert blocking["location"]["placeholders"][0]["location"]["part"]  # where in the template it sits
    assert [a["action"] for a in review.recommended_actions] == ["map_fields"]
    assert not review.steps.exists()

    waiting = runs["D-1043"]
    approval = WorkflowApproval.objects.get(execution=waiting)
    assert approval.status == ApprovalStatus.PENDING
    assert approval.message.startswith("Approve the contract for Northwind Traders, $8,400.00?")
    assert waiting.steps.get(node_key="approve").status == StepStatus.WAITING
    assert GeneratedDocument.objects.get(execution=waiting).name == "Contract D-1043 - Northwind Traders.docx"


def test_each_run_has_its_audit_rows_and_the_chain_verifies():
    organization = demo_seed().organization

    expected = {
        ExecutionStatus.COMPLETED: ["execution.started", "execution.completed"],
        ExecutionStatus.FAILED: ["execution.started", "execution.failed"],
        ExecutionStatus.NEEDS_REVIEW: ["execution.started"],
        ExecutionStatus.PAUSED: ["execution.started"],
    }
    for run in WorkflowExecution.objects.all():
        rows = AuditEvent.objects.filter(target_type="execution", target_id=str(run.pk)).order_by("sequence")
        assert [row.action for row in rows] == expected[run.status], run.status
        assert {row.event_metadata["correlation_id"] for row in rows} == {str(run.correlation_id)}
    assert audit_verify(organization_id=organization.pk)[1] is None
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "OK:" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_committed_seed_runs_its_own_steps_and_sends_no_queue_message():
    # With real commits the engine's on_commit hooks fire: none may reach the broker,
    # or a worker elsewhere would race the seed for the same steps.
    with dispatch.captured() as sent:
        seed()
        second = seed()
        assert sent == []
        # Once seeding is over, messages go out again.
        dispatch.execution_enqueue(execution_id="after")
    assert [m.object_id for m in sent] == ["after"]
    assert "nothing new" in second
    statuses = sorted(WorkflowExecution.objects.values_list("status", flat=True))
    assert statuses == ["completed", "failed", "needs_review", "paused"]
    assert not ExecutionStep.objects.filter(status__in=[StepStatus.PENDING, StepStatus.RUNNING]).exists()


def test_a_deactivated_workflow_keeps_its_state_and_its_missing_runs_are_reported():
    from docg.workflows.services import workflow_deactivate

    first = demo_seed()
    contract = first.workflows[CONTRACT_WORKFLOW]
    workflow_deactivate(workflow=contract, by=first.user)
    WorkflowExecution.objects.filter(workflow=contract).delete()

    again = demo_seed()

    assert again.workflows[CONTRACT_WORKFLOW].status == WorkflowStatus.INACTIVE
    assert [s.split(":")[0] for s in again.skipped] == ["run D-1042", "run D-1043"]
    assert "not active" in again.skipped[0]
    assert not WorkflowExecution.objects.filter(workflow=contract).exists()
