"""A fake of the Google APIs docg calls (Drive, Docs, Slides, Gmail, Forms) on loopback.

One threaded HTTP server answers every API root (the paths do not collide). It
checks the documented paths, methods, headers and bodies, keeps files in
memory (a Google Doc is its text; export renders that text into a tiny PDF),
and answers with Google's documented success and error bodies. Tests queue
errors with `fail_next(...)`.
"""

import base64
import email
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from email import policy
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.fixtures.loopback import LoopbackHandler, loopback_server

TOKEN = "ya29.test-access-token"
DOC_MIME = "application/vnd.google-apps.document"
SLIDES_MIME = "application/vnd.google-apps.presentation"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body or b"{}")


def google_error(status: int, message: str, reason: str, status_text: str, domain: str = "global") -> dict:
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": status_text,
        }
    }


ERRORS = {
    401: google_error(
        401,
        "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        "authError",
        "UNAUTHENTICATED",
    ),
    "scope": google_error(
        403, "Request had insufficient authentication scopes.", "insufficientPermissions", "PERMISSION_DENIED"
    ),
    "rate403": google_error(
        403, "User rate limit exceeded.", "userRateLimitExceeded", "PERMISSION_DENIED", "usageLimits"
    ),
    429: google_error(429, "Quota exceeded for quota metric 'Queries'.", "rateLimitExceeded", "RESOURCE_EXHAUSTED"),
    500: google_error(500, "Internal Error", "backendError", "INTERNAL"),
    503: google_error(503, "The service is currently unavailable.", "backendError", "UNAVAILABLE"),
}


def not_found(file_id: str) -> dict:
    return google_error(404, f"File not found: {file_id}.", "notFound", "NOT_FOUND")


@dataclass
class FakeGoogle:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    files: dict[str, dict] = field(default_factory=dict)
    sent: list[dict] = field(default_factory=list)
    # What users.settings.sendAs.list answers: the account itself, plus any aliases a test adds.
    send_as: list[dict] = field(
        default_factory=lambda: [{"sendAsEmail": "contracts@acme.example", "isPrimary": True, "isDefault": True}]
    )
    # form id → list of FormResponse objects
    forms: dict[str, list[dict]] = field(default_factory=dict)
    # (path substring, status, body, headers) answered once, before anything else, by the first matching request.
    failures: list[tuple[str, int, dict, dict]] = field(default_factory=list)
    # Requests that broke the documented contract (the fake answered 400).
    violations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, path_contains: str, status: int, body: dict, headers: dict | None = None) -> None:
        self.failures.append((path_contains, status, body, headers or {}))

    def add_file(self, file_id: str, *, name: str, mime: str, text: str = "", parents=None) -> None:
        self.files[file_id] = {
            "id": file_id,
            "name": name,
            "mimeType": mime,
            "parents": parents or ["root"],
            "appProperties": {},
            "text": text,
            "images": {},
        }

    def calls(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]


def _pdf(text: str) -> bytes:
    return b"%PDF-1.4\n% fake export\n(" + text.encode() + b")\n%%EOF\n"


def _check_contains_text(criteria: dict) -> None:
    assert set(criteria) == {"text", "matchCase"}, criteria
    assert isinstance(criteria["text"], str) and criteria["text"] and criteria["matchCase"] is True


def _handler(fake: FakeGoogle):
    class Handler(LoopbackHandler):
        protocol_version = "HTTP/1.1"

        def _record(self, method: str) -> Recorded:
            raw = self.read_body()
            parts = urlsplit(self.path)
            recorded = Recorded(
                method,
                unquote(parts.path),
                {k: v[0] for k, v in parse_qs(parts.query).items()},
                self.lower_headers(),
                raw,
            )
            fake.requests.append(recorded)
            return recorded

        def do_GET(self):
            self._route(self._record("GET"))

        def do_POST(self):
            self._route(self._record("POST"))

        def _route(self, r: Recorded):
            if r.headers.get("authorization") != f"Bearer {TOKEN}":
                return self._json(401, ERRORS[401], {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
            if not r.headers.get("x-correlation-id"):
                fake.violations.append(f"{r.method} {r.path}: no X-Correlation-ID")
            with fake.lock:
                for i, (needle, status, body, headers) in enumerate(fake.failures):
                    if needle in r.path:
                        fake.failures.pop(i)
                        return self._json(status, body, headers)
                try:
                    return self._dispatch(r)
                except (AssertionError, KeyError, ValueError) as exc:
                    # Not what Google documents: answer 400 and keep it for the test to fail on.
                    fake.violations.append(f"{r.method} {r.path}: {exc!r}")
                    return self._json(400, google_error(400, str(exc), "badRequest", "INVALID_ARGUMENT"))

        def _dispatch(self, r: Recorded):
            m = re.fullmatch(r"/drive/v3/files/([^/]+)/copy", r.path)
            if m and r.method == "POST":
                return self._copy(m.group(1), r)
            if r.path == "/drive/v3/files" and r.method == "GET":
                return self._list(r)
            m = re.fullmatch(r"/drive/v3/files/([^/]+)", r.path)
            if m and r.method == "GET":
                return self._get(m.group(1), r)
            m = re.fullmatch(r"/drive/v3/files/([^/]+)/export", r.path)
            if m and r.method == "GET":
                return self._export(m.group(1), r)
            if r.path == "/upload/drive/v3/files" and r.method == "POST":
                return self._upload(r)
            m = re.fullmatch(r"/v1/documents/([^/:]+):batchUpdate", r.path)
            if m and r.method == "POST":
                return self._batch(m.group(1), r, DOC_MIME, {"replaceAllText"})
            m = re.fullmatch(r"/v1/presentations/([^/:]+):batchUpdate", r.path)
            if m and r.method == "POST":
                return self._batch(m.group(1), r, SLIDES_MIME, {"replaceAllText", "replaceAllShapesWithImage"})
            if r.path == "/gmail/v1/users/me/settings/sendAs" and r.method == "GET":
                return self._json(200, {"sendAs": fake.send_as})
            if r.path == "/gmail/v1/users/me/messages/send" and r.method == "POST":
                return self._send(r)
            m = re.fullmatch(r"/v1/forms/([^/]+)/responses", r.path)
            if m and r.method == "GET":
                return self._responses(m.group(1), r)
            return self._json(404, google_error(404, "Not Found", "notFound", "NOT_FOUND"))

        # --- Drive ---------------------------------------------------------------------

        def _copy(self, file_id: str, r: Recorded):
            body = r.json()
            assert r.headers.get("content-type", "").startswith("application/json")
            assert isinstance(body.get("parents"), list) and body["parents"], body
            source = fake.files.get(file_id)
            if source is None:
                return self._json(404, not_found(file_id))
            new_id = f"copy-{uuid.uuid4().hex[:12]}"
            fake.files[new_id] = {
                **source,
                "id": new_id,
                "name": body.get("name") or f"Copy of {source['name']}",
                "parents": body["parents"],
                "appProperties": dict(body.get("appProperties") or {}),
                "images": {},
            }
            return self._json(200, self._file(fake.files[new_id]))

        def _file(self, f: dict) -> dict:
            return {
                "kind": "drive#file",
                "id": f["id"],
                "name": f["name"],
                "mimeType": f["mimeType"],
                "parents": f["parents"],
                "webViewLink": f"https://docs.google.com/file/d/{f['id']}/view",
            }

        def _get(self, file_id: str, r: Recorded):
            """files.get: the fields asked for, capabilities as the file's sharing allows (all, unless set)."""
            assert "capabilities(" in r.query.get("fields", ""), r.query
            assert r.query.get("supportsAllDrives") == "true", r.query
            f = fake.files.get(file_id)
            if f is None:
                return self._json(404, not_found(file_id))
            everything = {"canCopy": True, "canDownload": True, "canEdit": True, "canAddChildren": True}
            capabilities = {**everything, **f.get("capabilities", {})}
            body = {"id": f["id"], "name": f["name"], "mimeType": f["mimeType"], "trashed": bool(f.get("trashed"))}
            return self._json(200, {**body, "capabilities": capabilities})

        def _list(self, r: Recorded):
            query = r.query.get("q", "")
            m = re.fullmatch(
                r"appProperties has \{ key='([^']+)' and value='((?:[^'\\]|\\.)*)' \} and trashed = false", query
            )
            assert m, f"unexpected Drive query {query!r}"
            key, value = m.group(1), m.group(2).replace("\\'", "'")
            found = [self._file(f) for f in fake.files.values() if f["appProperties"].get(key) == value]
            return self._json(200, {"kind": "drive#fileList", "incompleteSearch": False, "files": found})

        def _export(self, file_id: str, r: Recorded):
            f = fake.files.get(file_id)
            if f is None:
                return self._json(404, not_found(file_id))
            if r.query.get("mimeType") != "application/pdf":
                return self._json(400, google_error(400, "Invalid mimeType", "badRequest", "INVALID_ARGUMENT"))
            text = f["text"] + "".join(f" [image {url}]" for url in f["images"].values())
            return self._raw(200, _pdf(text), "application/pdf")

        def _upload(self, r: Recorded):
            assert r.query.get("uploadType") == "multipart", r.query
            content_type = r.headers.get("content-type", "")
            assert content_type.startswith("multipart/related; boundary="), content_type
            parsed = email.message_from_bytes(
                b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + r.body, policy=policy.HTTP
            )
            metadata_part, media_part = list(parsed.iter_parts())
            assert metadata_part.get_content_type() == "application/json"
            metadata = json.loads(metadata_part.get_payload(decode=True))
            assert metadata.get("parents") and metadata.get("name"), metadata
            new_id = f"upload-{uuid.uuid4().hex[:12]}"
            fake.files[new_id] = {
                "id": new_id,
                "name": metadata["name"],
                "mimeType": media_part.get_content_type(),
                "parents": metadata["parents"],
                "appProperties": dict(metadata.get("appProperties") or {}),
                "content": media_part.get_payload(decode=True),
                "text": "",
                "images": {},
            }
            return self._json(200, self._file(fake.files[new_id]))

        # --- Docs / Slides ---------------------------------------------------------------

        def _batch(self, file_id: str, r: Recorded, mime: str, allowed: set[str]):
            f = fake.files.get(file_id)
            if f is None or f["mimeType"] != mime:
                return self._json(404, google_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND"))
            replies = []
            for request in r.json()["requests"]:
                [(kind, spec)] = request.items()
                assert kind in allowed, kind
                _check_contains_text(spec["containsText"])
                needle = spec["containsText"]["text"]
                count = f["text"].count(needle)
                if kind == "replaceAllText":
                    assert isinstance(spec["replaceText"], str)
                    f["text"] = f["text"].replace(needle, spec["replaceText"])
                else:
                    assert spec["imageUrl"] and spec["imageReplaceMethod"] in ("CENTER_INSIDE", "CENTER_CROP")
                    if count:
                        f["images"][needle] = spec["imageUrl"]
                        f["text"] = f["text"].replace(needle, "")
                replies.append({kind: {"occurrencesChanged": count}})
            key = "documentId" if mime == DOC_MIME else "presentationId"
            return self._json(200, {key: file_id, "replies": replies, "writeControl": {"requiredRevisionId": "r2"}})

        # --- Gmail / Forms ---------------------------------------------------------------

        def _send(self, r: Recorded):
            raw = r.json()["raw"]
            message = email.message_from_bytes(
                base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), policy=policy.default
            )
            fake.sent.append({"raw": raw, "message": message})
            return self._json(200, {"id": f"18c{uuid.uuid4().hex[:13]}", "threadId": "18cthread", "labelIds": ["SENT"]})

        def _responses(self, form_id: str, r: Recorded):
            if form_id not in fake.forms:
                return self._json(404, google_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND"))
            responses = list(fake.forms[form_id])
            flt = r.query.get("filter", "")
            if flt:
                m = re.fullmatch(r"timestamp (>=|>) (\S+Z)", flt)
                assert m, f"unsupported filter {flt!r}"
                op, since = m.groups()
                # Fixed-width times in the tests compare as strings.
                responses = [
                    x
                    for x in responses
                    if (x["lastSubmittedTime"] >= since if op == ">=" else x["lastSubmittedTime"] > since)
                ]
            return self._json(200, {"responses": responses} if responses else {})

        # --- answers --------------------------------------------------------------------

        def _json(self, status: int, body: dict, headers: dict | None = None):
            self.reply(status, body, headers, content_type="application/json; charset=UTF-8")

        def _raw(self, status: int, data: bytes, content_type: str, headers: dict | None = None):
            self.reply(status, data, headers, content_type=content_type)

    return Handler


@pytest.fixture
def google_api(settings):
    """The fake, with every Google API root pointed at it."""
    fake = FakeGoogle()
    with loopback_server(_handler(fake)) as fake.url:
        settings.CONNECTOR_API_ROOTS = {
            **settings.CONNECTOR_API_ROOTS,
            **dict.fromkeys(("google_docs", "google_slides", "google_drive", "gmail", "google_forms"), fake.url),
        }
        yield fake
