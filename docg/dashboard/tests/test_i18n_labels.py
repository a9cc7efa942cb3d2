"""Words that come from code rather than templates (model choices, the connector registry) follow the reader's
language too: a Portuguese organization reads "Ativo" and "Proprietário", and the editor's step names in Portuguese."""

import json
import re

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from docg.executions.tests.builders import PREPARE, active_workflow
from docg.orgs.choices import Language
from tests.fixtures.browser import logged_in_page, screenshot


@pytest.fixture(autouse=True)
def english_afterwards():
    """The test client runs requests in this thread: leave the language as the next test module expects it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def portuguese_acme(cast):
    cast.acme.language = Language.PT_BR
    cast.acme.save(update_fields=["language"])
    return cast


def page_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def editor_data(page: str) -> dict:
    match = re.search(r'<script id="wf-editor-data" type="application/json">(.*?)</script>', page, re.S)
    assert match, "the editor's data script is missing"
    return json.loads(match[1])


def webhook_trigger(apps: list[dict]) -> dict:
    webhook = next(app for app in apps if app["slug"] == "webhook")
    return next(op for op in webhook["triggers"] if op["name"] == "catch_hook")


@pytest.mark.django_db
def test_workflow_status_and_role_read_in_portuguese(client, portuguese_acme):
    active_workflow(portuguese_acme, PREPARE, name="Contrato")
    client.force_login(portuguese_acme.alice)
    page = page_of(client, "/")
    assert '<span class="badge active">Ativo</span>' in page
    assert "<small>(Proprietário)</small>" in page
    assert ">Active<" not in page
    assert "(Owner)" not in page


@pytest.mark.django_db
def test_workflow_status_and_role_stay_english_for_an_english_organization(client, cast):
    active_workflow(cast, PREPARE, name="Contract")
    client.force_login(cast.alice)
    page = page_of(client, "/")
    assert '<span class="badge active">Active</span>' in page
    assert "<small>(Owner)</small>" in page


@pytest.mark.django_db
def test_a_member_sees_their_own_role_in_portuguese(client, portuguese_acme):
    client.force_login(portuguese_acme.bob)
    assert "<small>(Membro)</small>" in page_of(client, "/")


@pytest.mark.django_db
def test_the_editor_names_steps_and_fields_in_the_organization_language(client, portuguese_acme):
    workflow = active_workflow(portuguese_acme, PREPARE, name="Contrato", activate=False)
    client.force_login(portuguese_acme.alice)
    page = page_of(client, f"/workflows/{workflow.pk}/")
    assert '<span class="badge draft" data-status>Rascunho</span>' in page
    data = editor_data(page)
    hook = webhook_trigger(data["apps"])
    assert hook["label"] == "Receber um webhook"
    assert hook["description"] == "O corpo JSON da requisição se torna a saída do gatilho."
    help_text = hook["parameters"]["properties"]["hmac_header"]["description"]
    assert help_text == "Cabeçalho que traz um HMAC-SHA256 do corpo."
    # Shared schema pieces with a filled-in example keep the example as it is.
    smtp = next(app for app in data["apps"] if app["slug"] == "smtp")
    attachments = smtp["actions"][0]["parameters"]["properties"]["attachments"]["description"]
    assert attachments == "Ids de documentos gerados, por exemplo ['{{ steps.pdf.document_id }}']."
    # The step list beside the canvas names the trigger by its translated label.
    assert "Receber um webhook" in page

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = editor_data(page_of(client, f"/workflows/{workflow.pk}/"))
    assert webhook_trigger(english["apps"])["label"] == "Catch a webhook"


@pytest.mark.django_db
def test_the_apps_api_follows_the_request_language(alice_api):
    portuguese = alice_api.get("/api/v1/apps", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert portuguese.status_code == 200
    hook = webhook_trigger(portuguese.json())
    assert hook["label"] == "Receber um webhook"
    core = next(app for app in portuguese.json() if app["slug"] == "core")
    assert core["description"] == "Controle de fluxo e utilitários integrados ao docg."
    assert {op["label"] for op in core["actions"]} >= {"Aprovação", "Definir variáveis"}

    english = alice_api.get("/api/v1/apps", HTTP_ACCEPT_LANGUAGE="en")
    assert webhook_trigger(english.json())["label"] == "Catch a webhook"
    assert alice_api.get("/api/v1/apps/webhook", HTTP_ACCEPT_LANGUAGE="pt-br").json()["name"] == "Webhook"


@pytest.mark.django_db
def test_a_workflow_with_a_translated_schema_still_validates_and_activates(client, portuguese_acme):
    """Lazy translated help texts inside the schemas do not get in the way of validation."""
    translation.activate("pt-br")
    workflow = active_workflow(portuguese_acme, PREPARE, name="Validado")
    workflow.refresh_from_db()
    assert workflow.status == "active"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_editor_shows_a_step_and_its_field_help_in_portuguese(
    django_db_setup, portuguese_acme, browser, dashboard_server
):
    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/workflows/new/")
    page.wait_for_selector("[data-editor][data-ready=true]")
    page.click("[data-action=add-step]")
    dialog = page.locator("dialog.wf-dialog")
    expect(dialog.locator("button[data-app=webhook][data-operation=catch_hook]")).to_contain_text("Receber um webhook")
    dialog.locator("button[data-app=webhook][data-operation=catch_hook]").click()
    inspector = page.locator("[data-inspector]")
    expect(inspector.locator("h2")).to_have_text("Receber um webhook")
    expect(inspector).to_contain_text("O corpo JSON da requisição se torna a saída do gatilho.")
    expect(inspector).to_contain_text("Cabeçalho que traz um HMAC-SHA256 do corpo.")
    # Fields are labelled by their translated titles, not by their keys.
    expect(inspector.locator("label", has_text="Cabeçalho HMAC")).to_be_visible()
    expect(inspector).not_to_contain_text("Hmac header")
    screenshot(page, "editor-step-pt-br")
    page.close()


@pytest.mark.django_db
def test_the_apps_api_titles_the_webhook_fields_in_the_request_language(alice_api):
    """The editor labels a field with its title: a Portuguese reader sees "Cabeçalho HMAC", not "Hmac header"."""
    portuguese = webhook_trigger(alice_api.get("/api/v1/apps", HTTP_ACCEPT_LANGUAGE="pt-br").json())
    titles = {name: prop["title"] for name, prop in portuguese["parameters"]["properties"].items()}
    assert titles == {
        "hmac_header": "Cabeçalho HMAC",
        "idempotency_field": "Campo de idempotência",
        "require_timestamp": "Exigir carimbo de data/hora",
    }

    english = webhook_trigger(alice_api.get("/api/v1/apps", HTTP_ACCEPT_LANGUAGE="en").json())
    titles = {name: prop["title"] for name, prop in english["parameters"]["properties"].items()}
    assert titles == {
        "hmac_header": "HMAC header",
        "idempotency_field": "Idempotency field",
        "require_timestamp": "Require a timestamp",
    }


def untitled_properties(schema: dict, where: str) -> list[str]:
    """Every property (nested objects and array items too) that lacks a non-empty title."""
    missing = []
    for name, prop in (schema.get("properties") or {}).items():
        path = f"{where}.{name}"
        if not str(prop.get("title") or "").strip():
            missing.append(path)
        missing += untitled_properties(prop, path)
        items = prop.get("items")
        if isinstance(items, dict):
            missing += untitled_properties(items, f"{path}[]")
        for variant in prop.get("anyOf") or prop.get("oneOf") or []:
            missing += untitled_properties(variant, path)
    return missing


def test_every_parameter_of_every_operation_has_a_title():
    """A parameter added without a title would show its key ("Template id") to a Portuguese reader."""
    from docg.connectors import registry

    registry.autodiscover()
    missing = []
    operations = 0
    for app in registry.all_apps():
        for kind, ops in (("trigger", app.triggers), ("action", app.actions)):
            for op in ops.values():
                operations += 1
                missing += untitled_properties(op.parameters, f"{app.slug}.{kind}.{op.name}")
    assert operations > 20
    assert not missing, f"parameters without a title: {missing}"


def test_portuguese_titles_are_translated():
    """Titles are lazy: the same schema reads in Portuguese while pt-BR is active."""
    from docg.connectors import registry

    registry.autodiscover()
    properties = registry.find_operation("docx", "action", "render").parameters["properties"]
    email = registry.find_operation("smtp", "action", "send_email").parameters["properties"]
    with translation.override("pt-br"):
        assert str(properties["template_id"]["title"]) == "Modelo"
        assert str(email["to"]["title"]) == "Destinatários"
        assert str(email["subject"]["title"]) == "Assunto"
        assert str(email["attachments"]["title"]) == "Anexos"
    assert str(properties["template_id"]["title"]) == "Template"
