"""A real browser builds a workflow in the visual editor, sees activation problems on the step that has
them, fixes them, activates, and finds the workflow Active in the list; a viewer sees no write buttons."""

import re

import pytest
from playwright.sync_api import expect

from docg.workflows.choices import WorkflowStatus
from docg.workflows.models import Workflow
from docg.workflows.services import workflow_create
from docg.workflows.tests.factories import linear_nodes
from tests.fixtures.browser import logged_in_page, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
# Each test asks for `django_db_setup` before the session-wide `dashboard_server`, so that the web server
# starts on the test database rather than on the one named in DATABASE_URL.


def add_step(page, app: str, operation: str) -> None:
    page.click("[data-action=add-step]")
    dialog = page.locator("dialog.wf-dialog")
    expect(dialog).to_be_visible()
    dialog.locator(f"button[data-app={app}][data-operation={operation}]").click()
    expect(dialog).to_have_count(0)


def test_alice_builds_a_three_step_workflow_and_activates_it(django_db_setup, cast, browser, dashboard_server):
    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/")
    page.get_by_role("link", name="New workflow").click()
    page.wait_for_selector("[data-editor][data-ready=true]")
    page.get_by_label("Workflow name").fill("Welcome pack")

    add_step(page, "webhook", "catch_hook")
    add_step(page, "core", "set_variables")
    inspector = page.locator("[data-inspector]")
    expect(inspector.locator("h2")).to_have_text("Set variables")
    inspector.locator("[data-kv=name]").fill("customer")
    inspector.locator("[data-kv=value]").click()
    # The variable picker: a trigger field typed by name is inserted into the focused field.
    inspector.get_by_label("Another trigger field").fill("customer")
    inspector.get_by_role("button", name="Insert", exact=True).click()
    expect(inspector.locator("[data-kv=value]")).to_have_value("{{ trigger.customer }}")

    add_step(page, "core", "datastore_set")
    expect(inspector.locator("h2")).to_have_text("Write to datastore")
    inspector.get_by_label("Value").click()
    # Earlier steps offer what they provide: the variables the set_variables step computes.
    inspector.locator("[data-insert='steps.set_variables.customer']").click()
    expect(inspector.get_by_label("Value")).to_have_value("{{ steps.set_variables.customer }}")
    # The trigger is not offered to... itself, and later steps are not offered to earlier ones.
    page.locator(".wf-node-main").nth(1).click()
    expect(inspector.locator("[data-insert^='steps.datastore_set']")).to_have_count(0)

    expect(page.locator(".wf-node")).to_have_count(3)
    expect(page.locator(".wf-arrows path.wf-arrow")).to_have_count(2)
    screenshot(page, "workflow-editor")

    page.click("[data-action=save]")
    page.wait_for_url(re.compile(r".*/workflows/[0-9a-f-]{36}/$"))
    expect(page.locator(".messages")).to_contain_text("Workflow saved.")
    page.wait_for_selector("[data-editor][data-ready=true]")

    # The datastore key was left empty: activation refuses, and says so on that step and field.
    page.click("[data-action=activate]")
    failing = page.locator(".wf-node.has-error")
    expect(failing).to_have_count(1)
    expect(failing).to_contain_text("Write to datastore")
    key_field = page.locator("[data-inspector] [data-error-for='parameters.key']")
    expect(key_field.locator(".field-error")).to_contain_text("required")
    expect(key_field.locator("input")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-banner]")).to_be_visible()
    screenshot(page, "workflow-editor-problems")

    key_field.locator("input").fill("last_customer")
    page.click("[data-action=activate]")  # saves the change first, then activates
    expect(page.locator(".messages")).to_contain_text("Workflow activated")
    expect(page.locator("[data-status]")).to_have_text("Active")
    expect(page.locator("[data-version='1']")).to_be_visible()

    page.goto(f"{dashboard_server.url}/")
    row = page.locator("tr", has_text="Welcome pack")
    expect(row.locator(".badge.active")).to_have_text("Active")
    screenshot(page, "workflows-list")

    workflow = Workflow.objects.get(name="Welcome pack", organization=cast.acme)
    assert workflow.status == WorkflowStatus.ACTIVE
    nodes = workflow.active_version.definition["nodes"]
    assert [(n["app"], n["operation"]) for n in nodes] == [
        ("webhook", "catch_hook"),
        ("core", "set_variables"),
        ("core", "datastore_set"),
    ]
    assert nodes[1]["parameters"] == {"variables": {"customer": "{{ trigger.customer }}"}}
    assert nodes[2]["parameters"] == {"key": "last_customer", "value": "{{ steps.set_variables.customer }}"}


def test_editor_fits_a_phone(django_db_setup, cast, browser, dashboard_server):
    stop = {"key": "stop", "kind": "action", "app": "core", "operation": "fail", "parameters": {"code": "x"}}
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="Phone flow", nodes=linear_nodes(stop))
    page = logged_in_page(
        browser, dashboard_server.url, "alice@example.com", next_path=f"/workflows/{workflow.pk}/", width=390
    )
    page.wait_for_selector("[data-editor][data-ready=true]")
    page.locator(".wf-node-main").nth(1).click()
    expect(page.locator("[data-inspector] h2")).to_have_text("Set variables")
    # Keyboard only: the move button keeps focus after the move, so Enter twice moves it back.
    page.locator(".wf-node[data-key=prepare] [data-tool=down]").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".wf-node").last).to_have_attribute("data-key", "prepare")
    assert page.eval_on_selector_all(".wf-node", "ns => ns.map(n => n.dataset.key)") == ["start", "stop", "prepare"]
    page.locator(".wf-node[data-key=prepare] [data-tool=up]").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".wf-node").last).to_have_attribute("data-key", "stop")
    assert page.eval_on_selector_all(".wf-node", "ns => ns.map(n => n.dataset.key)") == ["start", "prepare", "stop"]
    expect(page.locator("[data-save-state]")).to_have_text("Unsaved changes")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "workflow-editor-phone")
    page.goto(f"{dashboard_server.url}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "workflows-list-phone")


def test_viewer_sees_the_graph_but_no_write_buttons(django_db_setup, cast, browser, dashboard_server):
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="Acme contract", nodes=linear_nodes())
    page = logged_in_page(browser, dashboard_server.url, "vera@example.com", next_path="/")
    expect(page.locator("tr", has_text="Acme contract")).to_be_visible()
    for name in ("New workflow", "Edit", "Run"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)

    page.goto(f"{dashboard_server.url}/workflows/{workflow.pk}/")
    page.wait_for_selector("[data-editor][data-ready=true]")
    expect(page.locator(".wf-node")).to_have_count(2)
    for action in ("save", "activate", "deactivate", "add-step"):
        expect(page.locator(f"[data-action={action}]")).to_have_count(0)
    expect(page.locator(".wf-node-tools")).to_have_count(0)
    page.locator(".wf-node-main").nth(1).click()
    inputs = page.locator("[data-inspector] fieldset.wf-form input")
    expect(inputs.first).to_be_disabled()
    expect(page.locator("[data-inspector] [data-kv=value]")).to_have_value("{{ trigger.customer }}")
    expect(page.locator("[data-inspector] [data-insert]")).to_have_count(0)


def test_branches_are_drawn_and_the_picker_follows_the_paths(django_db_setup, cast, browser, dashboard_server):
    def variables(name):
        return {"variables": {name: "{{ trigger.customer }}"}}

    nodes = [
        {"key": "start", "kind": "trigger", "app": "webhook", "operation": "catch_hook"},
        {
            "key": "route",
            "kind": "action",
            "app": "core",
            "operation": "branch",
            "label": "VIP customer?",
            "branches": [{"when": "{{ trigger.vip }}", "next": "vip"}],
            "else": "regular",
        },
        {"key": "vip", "kind": "action", "app": "core", "operation": "set_variables", "parameters": variables("gold"),
         "next": "done"},
        {"key": "regular", "kind": "action", "app": "core", "operation": "set_variables",
         "parameters": variables("std")},
        {"key": "done", "kind": "action", "app": "core", "operation": "datastore_set",
         "parameters": {"key": "seen", "value": "yes"}},
    ]  # fmt: skip
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="Routing", nodes=nodes)
    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path=f"/workflows/{workflow.pk}/")
    page.wait_for_selector("[data-editor][data-ready=true]")
    expect(page.locator(".wf-arrows path.wf-arrow")).to_have_count(5)
    expect(page.locator(".wf-arrows path.wf-arrow.branch")).to_have_count(2)
    flow = page.locator(".wf-node[data-key=route] .wf-node-flow")
    expect(flow).to_contain_text("if {{ trigger.vip }} → Set variables")
    expect(flow).to_contain_text("otherwise → Set variables")

    page.locator(".wf-node[data-key=route] .wf-node-main").click()
    expect(page.get_by_label("If this is true")).to_have_value("{{ trigger.vip }}")
    expect(page.get_by_label("Otherwise go to")).to_have_value("regular")
    screenshot(page, "workflow-editor-branches")

    # The last step can use either path's results; the VIP path never sees the regular one's.
    inspector = page.locator("[data-inspector]")
    page.locator(".wf-node[data-key=done] .wf-node-main").click()
    for path in ("steps.route", "steps.vip.gold", "steps.regular.std"):
        expect(inspector.locator(f"[data-insert='{path}']")).to_have_count(1)
    page.locator(".wf-node[data-key=vip] .wf-node-main").click()
    expect(inspector.locator("[data-insert='steps.route']")).to_have_count(1)
    expect(inspector.locator("[data-insert^='steps.regular']")).to_have_count(0)
