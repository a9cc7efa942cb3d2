"""An automated accessibility audit of the dashboard's main pages in a real browser (axe-core, WCAG 2 A/AA).

The pages show the demo organization (docg/demo/seed.py): a template, workflows, and runs
that completed, failed, need review and wait for an approval, as a real installation has.
axe-core is vendored under tests/vendor/ (MPL-2.0): a test-only asset, never served.
"""

from pathlib import Path

import pytest

from docg.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, DEMO_WORKFLOW, demo_seed
from docg.executions.choices import ExecutionStatus
from tests.fixtures.browser import UI_TIMEOUT_MS, logged_in_page, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
# Minor and moderate findings are reported by axe too; these two block people from using a page.
BLOCKING = {"serious", "critical"}
AXE_RUN = "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa'], resultTypes: ['violations']})"

# A tab is shown once its panel is visible and its "Loading…" placeholder has been replaced.
SHOWN_TAB = """id => {
  const panel = document.getElementById(id);
  return !panel.hidden && !panel.querySelector(':scope > p.muted:only-child');
}"""


@pytest.fixture
def demo():
    return demo_seed()


def demo_pages(seed) -> dict[str, str]:
    runs = {run.status: run for run in seed.runs}
    assert {ExecutionStatus.FAILED, ExecutionStatus.NEEDS_REVIEW} <= set(runs), seed.skipped
    workflow = seed.workflows[DEMO_WORKFLOW]
    return {
        "workflows": "/",
        "editor-new": "/workflows/new/",
        "editor": f"/workflows/{workflow.pk}/",
        "run-form": f"/workflows/{workflow.pk}/run/",
        "runs": "/executions/",
        "run-failed": f"/executions/{runs[ExecutionStatus.FAILED].pk}/",
        "run-needs-review": f"/executions/{runs[ExecutionStatus.NEEDS_REVIEW].pk}/",
        "approvals": "/approvals/",
        "templates": "/templates/",
        "template": f"/templates/{seed.template.pk}/",
        "documents": "/documents/",
        "connections": "/connections/",
        "metrics": "/metrics/",
        "billing": "/billing/",
    }


def audit(page, url: str, name: str) -> list[dict]:
    """Load `url`, let htmx settle, run axe; the serious and critical violations, each labelled with the page."""
    page.goto(url)
    page.wait_for_load_state("load")
    if page.locator("[data-editor]").count():
        page.wait_for_selector("[data-editor][data-ready=true]")
    return audit_as_is(page, name)


def audit_as_is(page, name: str) -> list[dict]:
    """Run axe on the page in the state it is in now (a dialog open, a tab shown)."""
    # Parts loaded by htmx after the page (run timelines, charts, tabs) are audited too.
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    violations = page.evaluate(AXE_RUN)["violations"]
    found = [{**v, "page": name} for v in violations if v["impact"] in BLOCKING]
    if found:
        screenshot(page, f"a11y-{name}")
    return found


def summary(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['page']}] {v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:8]:
            lines.append(f"    {' '.join(node['target'])}: {node['failureSummary'].splitlines()[-1].strip()}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def assert_accessible(violations: list[dict]) -> None:
    if violations:
        print(summary(violations))
    assert not violations, "axe found serious or critical WCAG 2 A/AA violations:\n" + summary(violations)


def test_the_login_page_passes_axe(django_db_setup, browser, dashboard_server):
    found = []
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.set_default_timeout(UI_TIMEOUT_MS)
        found += audit(page, f"{dashboard_server.url}/login/", f"login-{width}")
        page.close()
    assert_accessible(found)


def test_the_main_pages_pass_axe_on_a_desktop(django_db_setup, demo, browser, dashboard_server):
    page = logged_in_page(browser, dashboard_server.url, DEMO_EMAIL, password=DEMO_PASSWORD)
    found = []
    pages = demo_pages(demo)
    for name, path in pages.items():
        found += audit(page, dashboard_server.url + path, name)

    # What only shows after a click: the run's logs and audit tabs, the editor's inspector and step chooser.
    page.goto(dashboard_server.url + pages["run-failed"])
    for tab in ("logs", "audit"):
        page.click(f"#tab-{tab}")
        page.wait_for_function(SHOWN_TAB, arg=f"panel-{tab}")
        found += audit_as_is(page, f"run-failed-{tab}-tab")
    page.goto(dashboard_server.url + pages["editor"])
    page.wait_for_selector("[data-editor][data-ready=true]")
    page.locator(".wf-node-main").nth(2).click()
    page.wait_for_selector("[data-inspector] h2")
    found += audit_as_is(page, "editor-inspector")
    page.click("[data-action=add-step]")
    page.wait_for_selector("dialog.wf-dialog[open]")
    found += audit_as_is(page, "editor-add-step")
    assert_accessible(found)


MOBILE_PAGES = [
    "workflows",
    "editor",
    "run-form",
    "runs",
    "run-failed",
    "run-needs-review",
    "approvals",
    "templates",
    "metrics",
]


def test_the_main_pages_pass_axe_on_a_phone(django_db_setup, demo, browser, dashboard_server):
    page = logged_in_page(browser, dashboard_server.url, DEMO_EMAIL, password=DEMO_PASSWORD, width=390)
    pages = demo_pages(demo)
    found = []
    for name in MOBILE_PAGES:
        found += audit(page, dashboard_server.url + pages[name], f"{name}-390")
    assert_accessible(found)
