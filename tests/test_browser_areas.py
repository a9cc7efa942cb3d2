"""Approvals, templates, documents, connections and metrics in a real browser (Debian's chromium via Playwright).

The dashboard is the session's web server (`dashboard_server`); runs go through this
process's Dramatiq worker (`worker`) on the same PostgreSQL and Redis.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from docg.connectors.services import connection_create
from docg.documents.services import template_create
from docg.documents.storage import document_store
from docg.documents.tests import corpus
from docg.executions.choices import ApprovalStatus, ExecutionStatus
from docg.executions.models import ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.executions.tests.builders import APPROVAL, PREPARE, action, active_workflow
from tests.fixtures.browser import logged_in_page, screenshot
from tests.fixtures.cast import api_client_for
from tests.fixtures.engine import wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

AFTER = action("after", "set_variables", parameters={"variables": {"done": "yes"}})
PHONE = {"width": 390, "height": 844}
# Buttons that change something; none may appear for a viewer.
WRITE_CONTROLS = "main form[method=post], main button[type=submit]:not(.search button), main input[type=file]"


def paused_run(cast, customer: str) -> str:
    workflow = active_workflow(cast, APPROVAL, AFTER, name=f"Contract for {customer}")
    started = api_client_for(cast.alice).post(
        f"/api/v1/workflows/{workflow.pk}/executions", {"trigger_data": {"customer": customer}}, format="json"
    )
    assert started.status_code == 202, started.content
    return started.json()["id"]


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_alice_approves_a_pending_approval_with_a_comment(cast, browser, dashboard_server, worker):
    execution_id = paused_run(cast, "Ana")
    wait_for_status(execution_id, ExecutionStatus.PAUSED)
    other_id = paused_run(cast, "Bruno")
    wait_for_status(other_id, ExecutionStatus.PAUSED)
    document_store(
        organization=cast.acme, name="contract-ana.pdf", data=b"%PDF-1.4 Ana", content_type="application/pdf",
        execution=WorkflowExecution.objects.get(pk=execution_id),
    )  # fmt: skip
    approval = WorkflowApproval.objects.get(execution_id=execution_id)

    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/approvals/")
    card = page.locator(f"#approval-{approval.pk}")
    expect(card).to_contain_text("Send the contract to Ana?")
    expect(card.get_by_role("link", name="Preview contract-ana.pdf")).to_be_visible()
    expect(page.locator("[data-pending-count]")).to_have_text("2")
    screenshot(page, "approvals")

    card.get_by_label("Comment").fill("Price checked with finance")
    card.get_by_role("button", name="Approve").click()
    expect(page.locator(f"#approval-{approval.pk}[data-decided=approved]")).to_contain_text(
        "Approved: the run goes on."
    )
    expect(page.locator("[data-pending-count]")).to_have_text("1")
    wait_for_status(execution_id, ExecutionStatus.COMPLETED)
    decided = WorkflowApproval.objects.get(pk=approval.pk)
    assert (decided.status, decided.comment, decided.decided_by) == (
        ApprovalStatus.APPROVED, "Price checked with finance", cast.alice,
    )  # fmt: skip

    page.reload()
    expect(page.locator("[data-approval]")).to_have_count(1)
    expect(page.locator(f"#approval-{approval.pk}")).to_have_count(0)
    expect(page.locator("[data-pending-count]")).to_have_text("1")
    page.get_by_role("link", name="Decided").click()
    expect(page.locator(f"#approval-{approval.pk}")).to_contain_text("Price checked with finance")
    page.close()


def test_alice_uploads_a_template_and_sees_its_variables_with_locations(cast, browser, dashboard_server, tmp_path):
    content = corpus.docx_with(
        "Dear {{ customer.name }},", "Your total is {{ order.total }}.", header="Contract {{ contract.number }}"
    )
    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/templates/")
    expect(page.get_by_role("heading", name="No templates yet")).to_be_visible()

    # A wrong file first: refused inline, nothing kept.
    page.get_by_label("Name", exact=True).fill("Service contract")
    page.get_by_label("File").set_input_files(
        files=[{"name": "contract.docx", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 not a docx"}]
    )
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator(".field-error")).to_contain_text("a PDF renamed to .docx")
    screenshot(page, "templates")

    page.get_by_label("File").set_input_files(
        files=[{"name": "contract.docx", "mimeType": "application/octet-stream", "buffer": content}]
    )
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_url("**/templates/*-*/")
    expect(page.get_by_role("heading", name="Service contract")).to_be_visible()
    variables = page.locator("[data-variables]")
    expect(variables.locator("[data-variable='customer.name']")).to_contain_text("body, paragraph 1")
    expect(variables.locator("[data-variable='order.total']")).to_contain_text("paragraph 2")
    expect(variables.locator("[data-variable='contract.number']")).to_contain_text("header 1")
    expect(page.locator("[data-variable-count]")).to_have_text("3")
    screenshot(page, "template-detail")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(variables.locator("[data-variable='customer.name']")).to_be_visible()
    assert fits_the_screen(page)
    page.close()


def test_a_viewer_sees_no_write_buttons(cast, browser, dashboard_server):
    workflow = active_workflow(cast, APPROVAL, name="Contract flow")
    execution = WorkflowExecution.objects.create(organization=cast.acme, workflow=workflow)
    WorkflowApproval.objects.create(organization=cast.acme, execution=execution, node_key="review", message="OK?")
    upload = SimpleUploadedFile("contract.docx", corpus.docx_with("Hi {{ customer.name }}"))
    template = template_create(organization=cast.acme, by=cast.alice, name="Contract", upload=upload)
    connection_create(
        organization=cast.acme, by=cast.alice, provider="zapsign", name="ZapSign", credentials={"api_token": "t"}
    )

    page = logged_in_page(browser, dashboard_server.url, "vera@example.com", next_path="/approvals/")
    for path, visible in (
        ("/approvals/", "OK?"),
        ("/templates/", "Contract"),
        (f"/templates/{template.pk}/", "customer.name"),
        ("/connections/", "ZapSign"),
    ):
        page.goto(f"{dashboard_server.url}{path}")
        expect(page.locator("main")).to_contain_text(visible)
        expect(page.locator(WRITE_CONTROLS)).to_have_count(0)
        for name in ("Approve", "Reject", "Upload and check", "Test", "Revoke"):
            expect(page.get_by_role("button", name=name)).to_have_count(0)
    page.close()


def test_connections_documents_and_metrics_read_well_on_a_laptop_and_a_phone(cast, browser, dashboard_server):
    connection_create(
        organization=cast.acme, by=cast.alice, provider="zapsign", name="ZapSign", credentials={"api_token": "t"}
    )
    connection_create(
        organization=cast.acme, by=cast.alice, provider="smtp", name="Office mail", credentials={"host": "h"}
    )
    workflow = active_workflow(cast, PREPARE, name="Welcome pack")
    now = timezone.now()
    for i, status in enumerate(["completed"] * 9 + ["failed"] * 3 + ["canceled", "running"]):
        run = WorkflowExecution.objects.create(
            organization=cast.acme, workflow=workflow, status=status,
            phase_metrics={
                "preflight": {"duration_ms": 40 + i * 5}, "render": {"duration_ms": 900 + i * 150},
                "delivery": {"duration_ms": 300 + i * 40},
            },
        )  # fmt: skip
        WorkflowExecution.objects.filter(pk=run.pk).update(created_at=now - timedelta(days=i % 6))
        ExecutionStep.objects.create(
            organization=cast.acme, execution=run, node_key="prepare", index=0, status="success", duration_ms=20 + i
        )
        document_store(
            organization=cast.acme, name=f"welcome-{i:02}.pdf", data=b"%PDF-1.4", content_type="application/pdf",
            execution=run,
        )  # fmt: skip

    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/connections/")
    expect(page.locator("[data-connection]")).to_have_count(2)
    page.locator("[data-key-form=zapsign] summary").click()
    expect(page.locator("[data-key-form=zapsign]").get_by_label("API token")).to_be_visible()
    screenshot(page, "connections")

    page.goto(f"{dashboard_server.url}/documents/")
    expect(page.locator("[data-document]")).to_have_count(14)
    screenshot(page, "documents")

    page.goto(f"{dashboard_server.url}/metrics/?days=7")
    expect(page.locator("[data-stat=total]")).to_have_text("14")
    expect(page.locator("svg title").first).to_have_text("Runs per day, last 7 days")
    expect(page.locator("[data-slowest-steps]")).to_contain_text("Welcome pack")
    screenshot(page, "metrics")

    page.set_viewport_size(PHONE)
    for path in ("/metrics/?days=7", "/documents/", "/connections/", "/approvals/", "/templates/"):
        page.goto(f"{dashboard_server.url}{path}")
        assert fits_the_screen(page), path
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.close()
