"""The dashboard in English and Brazilian Portuguese: complete catalogs, compiled files in step with them,
the organization's language by default, the switcher's choice above it, and the scripts' words through /jsi18n/."""

import ast
import gettext
import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from docg.executions.engine import execution_start
from docg.executions.tests.builders import PREPARE, active_workflow
from docg.orgs.choices import Language
from tests.fixtures.browser import logged_in_page, screenshot

MESSAGES = Path(settings.BASE_DIR) / "locale" / "pt_BR" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
# Named formats, and template fields shown as examples ({{ customer.name }}), stay as they are.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|%\(\w+\)\.\d+f|\{\{ *\w+\.[\w.]+ *\}\}")


@pytest.fixture(autouse=True)
def english_afterwards():
    """The test client runs requests in this thread: leave the language as the next test module expects it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


# --- the catalogs ------------------------------------------------------------------------------


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (index -1 when singular), flags."""
    entries: list[dict] = []
    entry: dict | None = None
    field: list | None = None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if entry is not None:
                entries.append(entry)
            entry, field = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "parts": {}}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$", line)
        if match:
            field = entry["parts"].setdefault(match[1], [])
            field.append(match[2])
        else:
            assert line.startswith('"') and field is not None, f"{path.name}: cannot read {raw!r}"
            field.append(line)
    for entry in entries:
        text = {name: "".join(ast.literal_eval(piece) for piece in pieces) for name, pieces in entry["parts"].items()}
        entry["msgctxt"] = text.get("msgctxt")
        entry["msgid"] = text.get("msgid", "")
        entry["msgid_plural"] = text.get("msgid_plural")
        entry["msgstr"] = {
            (int(name[7:-1]) if name != "msgstr" else -1): value
            for name, value in text.items()
            if name.startswith("msgstr")
        }
    return entries


def po_messages(path: Path) -> dict:
    """The messages as Python's gettext stores a compiled catalog: context\\x04id keys, (id, n) for plurals."""
    messages = {}
    for entry in read_po(path):
        key = entry["msgid"] if entry["msgctxt"] is None else f"{entry['msgctxt']}\x04{entry['msgid']}"
        if entry["msgid_plural"] is None:
            messages[key] = entry["msgstr"][-1]
        else:
            messages.update({(key, n): value for n, value in entry["msgstr"].items()})
    return messages


def mo_messages(path: Path) -> dict:
    with path.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_message_is_translated_and_none_is_fuzzy(domain):
    entries = read_po(MESSAGES / f"{domain}.po")
    messages = [e for e in entries if e["msgid"]]
    assert len(messages) > (400 if domain == "django" else 3)
    assert not [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not [e["msgid"] for e in messages if not all(e["msgstr"].values()) or not e["msgstr"]]
    plurals = [e for e in messages if e["msgid_plural"] is not None]
    assert plurals and all(sorted(e["msgstr"]) == [0, 1] for e in plurals)
    header = next(e for e in entries if not e["msgid"])["msgstr"][-1]
    assert "Plural-Forms: nplurals=2; plural=(n > 1);" in header
    assert "charset=UTF-8" in header


@pytest.mark.parametrize("domain", DOMAINS)
def test_translations_keep_their_placeholders(domain):
    for entry in read_po(MESSAGES / f"{domain}.po"):
        if not entry["msgid"]:
            continue
        wanted = sorted(PLACEHOLDER.findall(entry["msgid"]))
        for n, text in entry["msgstr"].items():
            assert sorted(PLACEHOLDER.findall(text)) == wanted, (entry["msgid"], n, text)


@pytest.mark.parametrize("domain", DOMAINS)
def test_compiled_catalogs_hold_what_the_po_files_say(domain):
    """The .mo files in the tree are what a machine without gettext serves: they must match the .po files."""
    compiled = mo_messages(MESSAGES / f"{domain}.mo")
    written = po_messages(MESSAGES / f"{domain}.po")
    compiled.pop("", None)
    written.pop("", None)
    assert compiled == written


@pytest.mark.parametrize("domain", DOMAINS)
def test_compiled_catalogs_are_what_msgfmt_makes_of_the_po_files(domain, tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (gettext) is not installed here")
    fresh = tmp_path / f"{domain}.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(MESSAGES / f"{domain}.po")], check=True)
    assert mo_messages(MESSAGES / f"{domain}.mo") == mo_messages(fresh)


# --- who sees which language --------------------------------------------------------------------


@pytest.fixture
def portuguese_acme(cast):
    cast.acme.language = Language.PT_BR
    cast.acme.save(update_fields=["language"])
    return cast


@pytest.fixture
def run(portuguese_acme):
    workflow = active_workflow(portuguese_acme, PREPARE, name="Contrato de locação")
    return execution_start(workflow=workflow, trigger_data={"customer": "Ana"}, by=portuguese_acme.alice)


def page_of(client, path: str, **headers) -> str:
    response = client.get(path, **headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_portuguese_organization_sees_its_workflows_in_portuguese(client, run, portuguese_acme):
    client.force_login(portuguese_acme.alice)
    page = page_of(client, "/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="pt-br">' in page
    assert ">Fluxos</h1>" in page
    assert "Novo fluxo" in page
    assert "Taxa de sucesso" in page
    assert ">Executar</a>" in page
    assert "Contrato de locação" in page
    assert "New workflow" not in page


@pytest.mark.django_db
def test_portuguese_organization_sees_runs_and_a_run_in_portuguese(client, run, portuguese_acme):
    client.force_login(portuguese_acme.alice)
    runs = page_of(client, "/executions/")
    assert ">Execuções</h1>" in runs
    assert "Atualizações ao vivo ativadas" in runs
    assert 'data-run-status="queued">Na fila</span>' in runs
    assert "Qualquer status" in runs
    # The live script's status names come translated in the page.
    assert '"completed": "Conclu\\u00edda"' in runs or '"completed": "Concluída"' in runs

    detail = page_of(client, f"/executions/{run.pk}/")
    assert f"Execução · {run.workflow.name}" in detail
    assert "Atividade ao vivo" in detail
    assert "Trilha de auditoria" in detail
    assert ">Etapas</h2>" in detail
    assert "Referência para o suporte:" in detail
    assert "Live activity" not in detail


@pytest.mark.django_db
def test_the_switcher_choice_wins_over_the_organization_language(client, run, portuguese_acme):
    client.force_login(portuguese_acme.alice)
    response = client.post("/language/", {"language": "en", "next": "/executions/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = page_of(client, "/executions/")
    assert ">Runs</h1>" in page
    assert "Execuções" not in page
    assert ">Workflows</h1>" in page_of(client, "/")


@pytest.mark.django_db
def test_an_english_organization_member_can_switch_to_portuguese(client, cast):
    client.force_login(cast.alice)
    assert ">Workflows</h1>" in page_of(client, "/")
    client.post("/language/", {"language": "pt-br", "next": "/"})
    page = page_of(client, "/")
    assert ">Fluxos</h1>" in page
    assert ">Sair</button>" in page


@pytest.mark.django_db
def test_login_page_follows_the_chosen_language(client):
    assert ">Log in</h1>" in page_of(client, "/login/")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"
    page = page_of(client, "/login/")
    assert ">Entrar</h1>" in page
    assert ">Senha</label>" in page


@pytest.mark.django_db
def test_the_api_keeps_its_own_language_rules(client, portuguese_acme):
    """The organization default is the dashboard's: the API's responses are not switched by it."""
    client.force_login(portuguese_acme.alice)
    assert client.get("/").headers["Content-Language"] == "pt-br"
    api = client.get("/api/v1/workflows/", HTTP_X_ORGANIZATION_ID=str(portuguese_acme.acme.pk))
    assert api.headers["Content-Language"] == "en"
    hook = client.post(f"/hooks/zapsign/{uuid.uuid4()}/token", data="{}", content_type="application/json")
    assert hook.headers.get("Content-Language", "en") == "en"


def js_catalog(client, path: str = "/jsi18n/") -> dict:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    match = re.search(r"const newcatalog = (\{.*?\});\n", response.content.decode(), re.S)
    # English is the source language: its catalog is empty and the script has no table at all.
    return json.loads(match[1]) if match else {}


@pytest.mark.django_db
def test_script_words_come_through_jsi18n_in_portuguese(client, portuguese_acme):
    client.force_login(portuguese_acme.alice)
    catalog = js_catalog(client)
    assert catalog["Valid JSON"] == "JSON válido"
    assert catalog["%(count)s problem"] == ["%(count)s problema", "%(count)s problemas"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Valid JSON" not in js_catalog(client)


@pytest.mark.django_db
def test_every_page_loads_the_script_catalog_before_its_scripts(client, run, portuguese_acme):
    client.force_login(portuguese_acme.alice)
    assert 'src="/jsi18n/"' in page_of(client, "/")
    for path in ("/executions/", f"/executions/{run.pk}/", f"/workflows/{run.workflow_id}/"):
        page = page_of(client, path)
        catalog_at = page.index('src="/jsi18n/"')
        scripts = [m.start() for m in re.finditer(r'src="/static/js/[\w/]+\.js"', page)]
        assert scripts and all(catalog_at < at for at in scripts), path


# --- in a browser -------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_portuguese_organization_reads_the_dashboard_in_portuguese(
    django_db_setup, portuguese_acme, browser, dashboard_server
):
    workflow = active_workflow(portuguese_acme, PREPARE, name="Boas-vindas")
    page = logged_in_page(browser, dashboard_server.url, "alice@example.com", next_path="/")
    expect(page.locator("h1")).to_have_text("Fluxos")
    expect(page.get_by_role("link", name="Novo fluxo")).to_be_visible()
    expect(page.locator("#lang-switch")).to_have_value("pt-br")
    # The JavaScript catalog is loaded and in Portuguese for the page scripts.
    assert page.evaluate("gettext('Valid JSON')") == "JSON válido"
    screenshot(page, "workflows-pt-br")

    page.get_by_role("link", name="Editar Boas-vindas").click()
    page.wait_for_selector("[data-editor][data-ready=true]")
    expect(page.locator("[data-action=add-step]")).to_have_text(re.compile("Adicionar uma etapa"))
    expect(page.locator("[data-inspector]")).to_contain_text("Selecione uma etapa")

    page.select_option("#lang-switch", "en")
    page.wait_for_url(f"**/workflows/{workflow.pk}/")
    expect(page.locator("[data-action=add-step]")).to_have_text(re.compile("Add a step"))
    page.goto(f"{dashboard_server.url}/")
    expect(page.locator("h1")).to_have_text("Workflows")
    page.close()
