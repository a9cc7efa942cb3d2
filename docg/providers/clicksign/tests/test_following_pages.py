"""The dashboard follows a ClickSign envelope: the run's signers panel, the Signatures list, the reminder button."""

import pytest

from docg.providers.clicksign.tests.helpers import event, hook
from docg.providers.clicksign.tests.test_following import _signing

pytestmark = pytest.mark.django_db


def test_the_run_page_and_its_live_parts_show_each_signer(client, cast, clicksign_api):
    conn, execution, document_key, (ana, bruno) = _signing(cast)
    client.force_login(cast.alice)
    page = client.get(f"/executions/{execution.pk}/").content.decode()
    assert 'data-signer="ana@client.example" data-signer-status="pending"' in page
    assert f"/signatures/{ana.pk}/remind/" in page

    # A signature.* event makes the page fetch its parts: the panel comes back out of band, updated.
    hook(conn, event("sign", document_key, signer={"key": ana.external_id}))
    parts = client.get(f"/executions/{execution.pk}/parts/").content.decode()
    assert 'id="signers" hx-swap-oob="true"' in parts
    assert 'data-signer="ana@client.example" data-signer-status="signed"' in parts
    assert 'data-signer="bruno@client.example" data-signer-status="pending"' in parts

    # Bruno opens the document: he is shown as having viewed it, still to sign.
    hook(conn, event("signature_started", document_key, signer={"key": bruno.external_id}))
    parts = client.get(f"/executions/{execution.pk}/parts/").content.decode()
    row = parts.split('data-signer="bruno@client.example"', 1)[1].split("</tr>", 1)[0]
    assert 'data-signer-status="viewed"' in row and "Viewed" in row


def test_the_signatures_list_shows_who_is_waiting_and_sends_a_reminder(client, cast, clicksign_api):
    _conn, execution, _key, (ana, bruno) = _signing(cast)
    client.force_login(cast.alice)
    page = client.get("/signatures/").content.decode()
    assert f'data-signature-request="{ana.pk}"' in page and f'data-signature-request="{bruno.pk}"' in page
    # Nobody has waited a week yet.
    assert f'data-signature-request="{ana.pk}"' not in client.get("/signatures/", {"age": "7"}).content.decode()

    before = len(clicksign_api.api_calls())
    answer = client.post(f"/signatures/{ana.pk}/remind/", {"next": f"/executions/{execution.pk}/"})
    assert answer.status_code == 302 and answer["Location"] == f"/executions/{execution.pk}/"
    paths = [c.path for c in clicksign_api.api_calls()[before:]]
    assert paths == [
        f"/api/v3/envelopes/{ana.envelope_id}/signers/{ana.external_id}/notifications",
        f"/api/v3/envelopes/{ana.envelope_id}/signers/{bruno.external_id}/notifications",
    ]
    # An outside "next" is not followed.
    elsewhere = client.post(f"/signatures/{ana.pk}/remind/", {"next": "https://evil.example/"})
    assert elsewhere["Location"] == "/signatures/"


def test_viewers_and_other_organizations_cannot_remind(client, cast, clicksign_api):
    _conn, _execution, _key, (ana, _bruno) = _signing(cast)
    client.force_login(cast.vera)
    assert f"/signatures/{ana.pk}/remind/" not in client.get("/signatures/").content.decode()
    assert client.post(f"/signatures/{ana.pk}/remind/").status_code == 404
    client.force_login(cast.charlie)
    assert f'data-signature-request="{ana.pk}"' not in client.get("/signatures/").content.decode()
    assert client.post(f"/signatures/{ana.pk}/remind/").status_code == 404
    assert [c for c in clicksign_api.api_calls() if "/signers/" in c.path and c.path.endswith("notifications")] == []
