"""A fake ClickSign API v3 on loopback: records every request and answers like the documented API.

It checks what the real API checks that docg could get wrong: the access token
in `Authorization`, JSON:API media types on bodies, each resource's `type` and
attributes, requirements naming an existing document and signer, and an envelope
activated only once every signer has a qualification and an authentication.
"""

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass, field

import pytest

from tests.fixtures.loopback import LoopbackHandler, loopback_server

TOKEN = "cs-access-token"
JSON_API = "application/vnd.api+json"
SIGNED_PDF = b"%PDF-1.4\n% signed by every signer (ClickSign fake)\ntrailer << /Root 1 0 R >>\n%%EOF\n"
_ENVELOPE = re.compile(r"^/api/v3/envelopes/([0-9a-f-]{36})(/[a-z_]+)?(?:/([0-9a-f-]{36}))?(/notifications)?$")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: dict


@dataclass
class FakeClickSign:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    # (substring of "METHOD /path", status, body, headers): answered instead, once, by the first matching call.
    failures: list[tuple[str, int, dict, dict]] = field(default_factory=list)
    envelopes: dict = field(default_factory=dict)
    signed_ready: bool = True
    delay: float = 0.0

    @property
    def api_root(self) -> str:
        return self.url

    def api_calls(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith("/api/v3/")]

    def fail(self, match: str, status: int, body: dict | None = None, headers: dict | None = None) -> None:
        self.failures.append((match, status, body or {"errors": [{"detail": "failure"}]}, headers or {}))


def _error(detail: str) -> dict:
    return {"errors": [{"detail": detail}]}


def _route(fake: FakeClickSign, method: str, path: str, body: dict) -> tuple[int, dict]:
    if path == "/api/v3/envelopes":
        if method == "GET":
            return 200, {"data": [], "meta": {"record_count": len(fake.envelopes)}}
        data = body.get("data") or {}
        attributes = data.get("attributes") or {}
        if method != "POST" or data.get("type") != "envelopes" or not attributes.get("name"):
            return 422, _error("envelope: name can't be blank")
        envelope_id = str(uuid.uuid4())
        fake.envelopes[envelope_id] = {
            "attributes": {**attributes, "status": "draft"},
            "documents": {},
            "signers": {},
            "requirements": [],
            "notified": 0,
        }
        return 201, {"data": {"id": envelope_id, "type": "envelopes", "attributes": {**attributes, "status": "draft"}}}
    match = _ENVELOPE.match(path)
    envelope = fake.envelopes.get(match.group(1)) if match else None
    if envelope is None:
        return 404, _error("Not Found")
    envelope_id, sub, child = match.group(1), match.group(2) or "", match.group(3)
    data = body.get("data") or {}
    attributes = data.get("attributes") or {}
    if sub == "" and method == "PATCH" and attributes.get("status") == "canceled":
        if data.get("type") != "envelopes" or data.get("id") != envelope_id:
            return 422, _error("type is invalid")
        if envelope["attributes"]["status"] != "running":
            return 422, _error("only a running envelope can be canceled")
        envelope["attributes"]["status"] = "canceled"
        return 200, {"data": {"id": envelope_id, "type": "envelopes", "attributes": envelope["attributes"]}}
    if sub == "/signers" and method == "POST" and match.group(4):
        if child not in envelope["signers"] or data.get("type") != "notifications":
            return 422, _error("signer is invalid")
        if envelope["attributes"]["status"] != "running":
            return 422, _error("envelope is not running")
        envelope.setdefault("signer_notified", []).append(child)
        return 201, {"data": {"id": str(uuid.uuid4()), "type": "notifications", "attributes": attributes}}
    if sub == "" and method == "PATCH":
        if data.get("type") != "envelopes" or data.get("id") != envelope_id or attributes.get("status") != "running":
            return 422, _error("status is invalid")
        kinds = {(r["signer"], r["kind"]) for r in envelope["requirements"]}
        ready = envelope["documents"] and all(
            (s, k) in kinds for s in envelope["signers"] for k in ("qualification", "authentication")
        )
        if not envelope["signers"] or not ready:
            return 422, _error("envelope has unmet requirements")
        envelope["attributes"]["status"] = "running"
        return 200, {"data": {"id": envelope_id, "type": "envelopes", "attributes": envelope["attributes"]}}
    if sub == "/documents" and method == "POST":
        content = str(attributes.get("content_base64") or "")
        if data.get("type") != "documents" or not attributes.get("filename"):
            return 422, _error("filename can't be blank")
        if not content.startswith("data:application/pdf;base64,"):
            return 422, _error("content_base64 is invalid")
        document_id = str(uuid.uuid4())
        envelope["documents"][document_id] = base64.b64decode(content.split(",", 1)[1])
        return 201, {
            "data": {"id": document_id, "type": "documents", "attributes": {"filename": attributes["filename"]}}
        }
    if sub == "/documents" and method == "GET" and child in envelope["documents"]:
        files = {"original": f"{fake.url}/files/{child}-original.pdf"}
        if fake.signed_ready:
            files["signed"] = f"{fake.url}/files/{child}-signed.pdf?expires=300"
        status = "closed" if fake.signed_ready else "running"
        return 200, {
            "data": {"id": child, "type": "documents", "attributes": {"status": status}, "links": {"files": files}}
        }
    if sub == "/signers" and method == "POST":
        if data.get("type") != "signers" or not attributes.get("name") or "@" not in str(attributes.get("email")):
            return 422, _error("email is invalid")
        signer_id = str(uuid.uuid4())
        envelope["signers"][signer_id] = attributes
        return 201, {"data": {"id": signer_id, "type": "signers", "attributes": attributes}}
    if sub == "/requirements" and method == "POST":
        relationships = data.get("relationships") or {}
        document = ((relationships.get("document") or {}).get("data")) or {}
        signer = ((relationships.get("signer") or {}).get("data")) or {}
        if document.get("type") != "documents" or document.get("id") not in envelope["documents"]:
            return 422, _error("document is invalid")
        if signer.get("type") != "signers" or signer.get("id") not in envelope["signers"]:
            return 422, _error("signer is invalid")
        if attributes == {"action": "agree", "role": "sign"}:
            kind = "qualification"
        elif attributes.get("action") == "provide_evidence" and attributes.get("auth") == "email":
            kind = "authentication"
        else:
            return 422, _error("requirement is invalid")
        envelope["requirements"].append({"signer": signer["id"], "kind": kind})
        return 201, {"data": {"id": str(uuid.uuid4()), "type": "requirements", "attributes": attributes}}
    if sub == "/notifications" and method == "POST":
        if data.get("type") != "notifications":
            return 422, _error("type is invalid")
        if envelope["attributes"]["status"] != "running":
            return 422, _error("envelope is not running")
        envelope["notified"] += 1
        return 201, {"data": {"id": str(uuid.uuid4()), "type": "notifications", "attributes": attributes}}
    return 404, _error("Not Found")


def _handler(fake: FakeClickSign):
    class Handler(LoopbackHandler):
        def _handle(self, method: str):
            raw = self.read_body()
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {"_raw": raw.decode(errors="replace")}
            headers = self.lower_headers()
            fake.requests.append(Recorded(method, self.path, headers, body))
            if fake.delay:
                time.sleep(fake.delay)
            if self.path.startswith("/files/"):
                return self._answer(200, SIGNED_PDF, {}, "application/pdf")
            if headers.get("authorization") != TOKEN:
                return self._answer(401, _error("Unauthorized"), {})
            if raw and headers.get("content-type") != JSON_API:
                return self._answer(415, _error("Unsupported Media Type"), {})
            for index, (match, status, answer, extra) in enumerate(fake.failures):
                if match in f"{method} {self.path}":
                    fake.failures.pop(index)
                    return self._answer(status, answer, extra)
            status, answer = _route(fake, method, self.path, body if isinstance(body, dict) else {})
            return self._answer(status, answer, {})

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def do_PATCH(self):
            self._handle("PATCH")

        def _answer(self, status: int, body, headers: dict, content_type: str = JSON_API):
            self.reply(status, body, headers, content_type=content_type)

    return Handler


@pytest.fixture
def clicksign_api(settings):
    # The API root is operator configuration; the signed-file links it hands out go through the SSRF guard.
    settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    fake = FakeClickSign()
    with loopback_server(_handler(fake)) as fake.url:
        settings.CONNECTOR_API_ROOTS = {**settings.CONNECTOR_API_ROOTS, "clicksign": fake.url}
        yield fake
