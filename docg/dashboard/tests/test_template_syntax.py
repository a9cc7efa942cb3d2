"""The template syntax reference page: every tag, filter and function, with the example of the user's language."""

from html import unescape

import pytest

from docg.documents.rendering.syntax import REFERENCE

pytestmark = pytest.mark.django_db


def test_the_page_lists_every_entry_with_its_english_example(client, cast):
    client.force_login(cast.alice)

    response = client.get("/templates/syntax/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    page = unescape(response.content.decode())
    for entry in REFERENCE:
        assert f'data-syntax-entry="{entry.name}"' in page
    assert "Due {{ due|date('MMMM d, yyyy', 'en') }}" in page
    assert "Due November 24, 2026" in page
    assert "Vence em" not in page


def test_pt_br_users_see_the_brazilian_examples(client, cast):
    client.force_login(cast.alice)
    client.post("/language/", {"language": "pt-br", "next": "/templates/syntax/"})

    page = client.get("/templates/syntax/").content.decode()

    assert "Vence em 24/11/2026" in page and "Total R$ 1.234,50" in page
    assert "Due November 24, 2026" not in page
    assert '<html lang="pt-br"' in page


def test_the_templates_pages_link_to_it_and_it_needs_a_login(client, cast):
    assert client.get("/templates/syntax/").status_code == 302  # to the login page
    client.force_login(cast.vera)  # a viewer reads it too
    assert 'href="/templates/syntax/"' in client.get("/templates/").content.decode()
    assert client.get("/templates/syntax/").status_code == 200
