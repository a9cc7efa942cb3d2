"""A fake Microsoft Graph on loopback: checks requests against the documented API and answers like it.

Documented endpoints served (v1.0):
- `PUT /v1.0/me/drive/root:/{path}:/content` and `/v1.0/drives/{drive-id}/root:/{path}:/content`
  (`@microsoft.graph.conflictBehavior` query parameter, a Content-Type, the raw bytes) → 201 driveItem;
- `GET /v1.0/{drive}/items/{id}/content?format=pdf` → 302 to a pre-authenticated
  URL on the same server (`/download/{token}`), which serves the PDF and refuses
  a request that carries an Authorization header;
- `POST /v1.0/me/sendMail` `{message, saveToSentItems}` → 202 with no body;
- `GET /v1.0/me/drive` and `/v1.0/drives/{drive-id}` (known ids in `drives`) → the drive;
- `GET /v1.0/{drive}/root:/{path}` → the folder, if an uploaded item lies under it (or it is
  in `folders`), else 404 itemNotFound.

A request without `Authorization: Bearer <token>` gets Graph's 401; `fail_next`
queues documented error answers (403, 404, 409, 429 with Retry-After, 5xx) for
the next API calls; a malformed sendMail body gets Graph's 400.
"""

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.fixtures.loopback import LoopbackHandler, loopback_server

TOKEN = "ms-access-token"
ERRORS = {
    401: ("InvalidAuthenticationToken", "Access token has expired or is not yet valid."),
    403: ("accessDenied", "Either scp or roles claim need to be present in the token."),
    404: ("itemNotFound", "The resource could not be found."),
    409: ("resourceModified", "The resource has changed since the caller last read it."),
    429: ("activityLimitReached", "The request has been throttled."),
    500: ("generalException", "An unspecified error has occurred."),
    503: ("serviceNotAvailable", "The service is not available. Try the request again after a delay."),
}
FILE_ATTACHMENT = "#microsoft.graph.fileAttachment"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def graph_error(status: int, code: str = "", message: str = "") -> dict:
    default_code, default_message = ERRORS.get(status, ("invalidRequest", "Invalid request."))
    return {
        "error": {
            "code": code or default_code,
            "message": message or default_message,
            "innerError": {
                "date": "2026-11-25T10:00:00",
                "request-id": str(uuid.uuid4()),
                "client-request-id": str(uuid.uuid4()),
            },
        }
    }


def fake_pdf(source: bytes, name: str) -> bytes:
    """What the fake "converts" a file to: a small PDF that names its source (so tests can tell them apart)."""
    digest = hashlib.sha256(source).hexdigest()
    return (
        b"%PDF-1.4\n% converted by the fake Graph from " + name.encode() + b" sha256=" + digest.encode() + b"\n"
        b"1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


@dataclass
class FakeGraph:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    downloads: list[Recorded] = field(default_factory=list)
    items: dict[str, dict] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    sent: list[dict] = field(default_factory=list)
    # (status, body, headers, only-for-path-prefix) answers to give to the next API calls, in order.
    failures: list[tuple[int, dict, dict, str]] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # SharePoint drive ids that exist (the account's OneDrive always does) and folder paths made by hand.
    drives: set = field(default_factory=set)
    folders: set = field(default_factory=set)

    def fail_next(
        self, status: int, *, code: str = "", message: str = "", headers: dict | None = None, path: str = ""
    ) -> None:
        """Answer the next API call (the next one under `path`, if given) with Graph's documented error."""
        self.failures.append((status, graph_error(status, code, message), headers or {}, path))

    def take_failure(self, path: str) -> tuple[int, dict, dict] | None:
        with self.lock:
            for index, (status, body, headers, prefix) in enumerate(self.failures):
                if path.startswith(prefix):
                    del self.failures[index]
                    return status, body, headers
        return None

    def pdf_of(self, item_id: str) -> bytes:
        item = self.items[item_id]
        return fake_pdf(item["content"], item["name"])

    def api_calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]


def _handler(fake: FakeGraph):
    class Handler(LoopbackHandler):
        def _record(self) -> Recorded:
            parts = urlsplit(self.path)
            return Recorded(
                self.command,
                unquote(parts.path),
                {k: v[0] for k, v in parse_qs(parts.query).items()},
                self.lower_headers(),
                self.read_body(),
            )

        def do_GET(self):
            self._dispatch()

        def do_PUT(self):
            self._dispatch()

        def do_POST(self):
            self._dispatch()

        def _dispatch(self):
            request = self._record()
            if request.path.startswith("/download/"):
                fake.downloads.append(request)
                return self._download(request)
            fake.requests.append(request)
            if fake.delay:
                time.sleep(fake.delay)
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return self._error(401)
            failure = fake.take_failure(request.path)
            if failure:
                status, body, headers = failure
                return self._answer(status, body, headers)
            path, method = request.path, request.method
            drive = "/v1.0/me/drive/"
            if path.startswith("/v1.0/drives/"):
                drive = "/".join(path.split("/")[:4]) + "/"
            if method == "PUT" and path.startswith(drive + "root:/") and path.endswith(":/content"):
                return self._upload(request, path[len(drive + "root:/") : -len(":/content")], drive)
            if method == "GET" and path == drive.rstrip("/"):
                return self._drive(drive)
            if method == "GET" and path.startswith(drive + "root:/") and not path.endswith(":/content"):
                return self._folder(path[len(drive + "root:/") :])
            if method == "GET" and path.startswith(drive + "items/") and path.endswith("/content"):
                return self._convert(request, path[len(drive + "items/") : -len("/content")])
            if method == "POST" and path == "/v1.0/me/sendMail":
                return self._send_mail(request)
            return self._error(400, "invalidRequest", f"Invalid request: {method} {path}")

        def _upload(self, request: Recorded, item_path: str, drive: str):
            if request.query.get("@microsoft.graph.conflictBehavior") not in (None, "fail", "replace", "rename"):
                return self._error(400, "invalidRequest", "Invalid conflictBehavior.")
            if not request.headers.get("content-type"):
                return self._error(400, "invalidRequest", "Content-Type is required.")
            name = item_path.rsplit("/", 1)[-1]
            with fake.lock:
                existing = next((i for i in fake.items.values() if i["path"] == item_path), None)
                if existing and request.query.get("@microsoft.graph.conflictBehavior", "fail") == "fail":
                    return self._error(409, "nameAlreadyExists", "The specified item name already exists.")
                item_id = existing["id"] if existing else "01" + uuid.uuid4().hex[:32].upper()
                fake.items[item_id] = {"id": item_id, "path": item_path, "name": name, "content": request.body}
            body = {
                "id": item_id,
                "name": name,
                "size": len(request.body),
                "webUrl": f"https://contoso-my.sharepoint.com/personal/ana/Documents/{item_path}",
                "file": {"mimeType": request.headers["content-type"]},
                "parentReference": {"driveId": drive.split("/")[3] if "drives" in drive else "b!me", "path": ""},
            }
            return self._answer(200 if existing else 201, body, {})

        def _drive(self, drive: str):
            drive_id = drive.split("/")[3] if "drives" in drive else "b!me"
            if "drives" in drive and drive_id not in fake.drives:
                return self._error(404)
            return self._answer(200, {"id": drive_id, "driveType": "business"}, {})

        def _folder(self, folder: str):
            folder = folder.strip("/")
            with fake.lock:
                children = [i for i in fake.items.values() if i["path"].startswith(folder + "/")]
            if not children and folder not in fake.folders:
                return self._error(404)
            name = folder.rsplit("/", 1)[-1]
            return self._answer(
                200, {"id": "01F" + uuid.uuid4().hex[:8], "name": name, "folder": {"childCount": len(children)}}, {}
            )

        def _convert(self, request: Recorded, item_id: str):
            if request.query.get("format") != "pdf":
                return self._error(400, "invalidRequest", "Unsupported format.")
            if item_id not in fake.items:
                return self._error(404)
            token = uuid.uuid4().hex
            fake.links[token] = item_id
            self.send_response(302)
            self.send_header("Location", f"{fake.url}/download/{token}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _download(self, request: Recorded):
            item_id = fake.links.get(request.path.rsplit("/", 1)[-1])
            if item_id is None or "authorization" in request.headers:
                # Pre-authenticated URLs are short-lived and take no bearer token.
                return self._answer(401, {"error": "unauthenticated"}, {})
            self.reply(200, fake.pdf_of(item_id), content_type="application/pdf")

        def _send_mail(self, request: Recorded):
            try:
                body = request.json()
                message = body["message"]
                assert request.headers.get("content-type", "").startswith("application/json")
                assert isinstance(body.get("saveToSentItems", True), bool)
                assert isinstance(message["subject"], str)
                assert message["body"]["contentType"] in ("Text", "HTML")
                assert isinstance(message["body"]["content"], str)
                for key in ("toRecipients", "ccRecipients", "bccRecipients"):
                    for recipient in message.get(key, []):
                        assert "@" in recipient["emailAddress"]["address"]
                assert message["toRecipients"]
                for attachment in message.get("attachments", []):
                    assert attachment["@odata.type"] == FILE_ATTACHMENT
                    assert attachment["name"] and attachment["contentType"] and attachment["contentBytes"]
            except (ValueError, KeyError, TypeError, AssertionError) as exc:
                return self._error(400, "ErrorInvalidRequest", f"The request is invalid ({type(exc).__name__}).")
            fake.sent.append(body)
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _error(self, status: int, code: str = "", message: str = ""):
            headers = {"WWW-Authenticate": 'Bearer realm=""'} if status == 401 else {}
            return self._answer(status, graph_error(status, code, message), headers)

        def _answer(self, status: int, body: dict, headers: dict):
            self.reply(status, body, headers)

    return Handler


@pytest.fixture
def graph_api(settings):
    """A fake Graph; CONNECTOR_API_ROOTS["microsoft_graph"] points at it, loopback downloads allowed."""
    fake = FakeGraph()
    with loopback_server(_handler(fake)) as fake.url:
        settings.CONNECTOR_API_ROOTS = {**settings.CONNECTOR_API_ROOTS, "microsoft_graph": fake.url}
        settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]
        yield fake
