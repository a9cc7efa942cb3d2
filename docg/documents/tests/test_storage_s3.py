"""Generated documents on a real S3-compatible server (moto's server mode on loopback) and on local disk."""

import boto3
import httpx
import pytest
from django.core import signing
from django.core.files.storage import default_storage
from moto.server import ThreadedMotoServer

from docg.audit.models import AuditEvent
from docg.documents.storage import document_download_link, document_store
from tests.fixtures.processes import free_port

pytestmark = pytest.mark.django_db

BUCKET = "docg-documents"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def s3_server():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, settings):
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
    client = boto3.client("s3", endpoint_url=s3_server, **credentials)
    if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "addressing_style": "path",
                "signature_version": "s3v4",
                "default_acl": None,
                "file_overwrite": False,
                "querystring_expire": settings.DOCUMENT_LINK_SECONDS,
            },
        },
    }
    return client


def _store(organization, data=b"PK fake docx bytes", name="Contrato Ana.docx"):
    return document_store(organization=organization, name=name, data=data, content_type=DOCX)


def test_it_stores_the_document_in_the_bucket(cast, s3):
    document = _store(cast.acme)
    assert type(default_storage._wrapped).__name__ == "S3Storage"
    head = s3.head_object(Bucket=BUCKET, Key=document.file.name)
    assert head["ContentLength"] == len(b"PK fake docx bytes")
    assert document.file.name.startswith(f"documents/{cast.acme.pk}/{document.pk}/")
    actions = list(AuditEvent.objects.filter(target_id=str(document.pk)).values_list("action", flat=True))
    assert sorted(actions) == ["document.generated", "document.saved"]
    saved = AuditEvent.objects.get(target_id=str(document.pk), action="document.saved")
    assert saved.event_metadata["storage"] == "S3Storage"


def test_the_download_link_is_a_presigned_url_that_downloads_the_file(cast, s3, alice_api):
    document = _store(cast.acme, data=b"the bytes of a contract")
    response = alice_api.get(f"/api/v1/documents/{document.pk}/download")
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 300
    assert "X-Amz-Signature=" in body["url"] and "X-Amz-Expires=300" in body["url"]
    fetched = httpx.get(body["url"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == b"the bytes of a contract"
    # The signature covers the key: another object's key with it is refused.
    forged = body["url"].replace(str(document.pk), "00000000-0000-0000-0000-000000000000")
    assert httpx.get(forged, timeout=10).status_code == 403


def test_another_organizations_document_is_404(cast, s3, charlie_api):
    document = _store(cast.acme)
    response = charlie_api.get(f"/api/v1/documents/{document.pk}/download")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- local disk ---------------------------------------------------------------------------


def test_on_local_disk_the_link_is_signed_and_streams_the_file(cast, alice_api, client):
    document = _store(cast.acme, data=b"local bytes", name="Proposta.docx")
    body = alice_api.get(f"/api/v1/documents/{document.pk}/download").json()
    assert body["expires_in"] == 300
    assert body["url"].startswith(f"http://testserver/api/v1/documents/{document.pk}/file?sig=")
    # The link needs no login: the signature is the credential, as with S3.
    response = client.get(body["url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"local bytes"
    assert response["Content-Type"] == DOCX
    assert response["Content-Disposition"] == 'attachment; filename="Proposta.docx"'


def test_a_link_for_another_document_or_tampered_is_404(cast, client):
    first, second = _store(cast.acme), _store(cast.acme)
    url = document_download_link(document=first)["url"]
    signature = url.split("sig=", 1)[1]
    assert client.get(f"/api/v1/documents/{second.pk}/file?sig={signature}").status_code == 404
    assert client.get(url[:-2] + "xx").status_code == 404
    assert client.get(f"/api/v1/documents/{first.pk}/file").status_code == 404


def test_an_expired_link_is_404(cast, client, monkeypatch):
    document = _store(cast.acme)
    url = document_download_link(document=document)["url"]
    real_loads = signing.loads
    monkeypatch.setattr(signing, "loads", lambda *a, **k: real_loads(*a, **{**k, "max_age": -1}))
    assert client.get(url).status_code == 404


def test_another_organizations_document_is_404_on_local_disk(cast, charlie_api):
    document = _store(cast.acme)
    assert charlie_api.get(f"/api/v1/documents/{document.pk}/download").status_code == 404
