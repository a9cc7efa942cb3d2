"""A fake ZapSign API on loopback: records every request and answers like the documented API."""

import json
import time
import uuid
from dataclasses import dataclass, field

import pytest

from tests.fixtures.loopback import LoopbackHandler, loopback_server

SIGNED_PDF = b"%PDF-1.4\n% signed by every signer (ZapSign fake)\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: dict


@dataclass
class FakeZapSign:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    # (status, body, headers) answers to give first; then the documented success.
    failures: list[tuple[int, dict, dict]] = field(default_factory=list)
    delay: float = 0.0
    # Documents created so far (token → answer), for GET /docs/{token}/.
    docs: dict = field(default_factory=dict)
    # Whether GET /docs/{token}/ already carries the signed file's link.
    signed_ready: bool = True
    signed_pdf: bytes = SIGNED_PDF

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/v1"

    def success(self, body: dict) -> dict:
        doc_token = str(uuid.uuid4())
        signers = [
            {
                "token": str(uuid.uuid4()),
                "sign_url": f"https://app.zapsign.com.br/verificar/{uuid.uuid4()}",
                "status": "new",
                "name": s.get("name"),
                "email": s.get("email"),
            }
            for s in body.get("signers") or []
        ]
        answer = {
            "open_id": 1,
            "token": doc_token,
            "status": "pending",
            "name": body.get("name"),
            "external_id": body.get("external_id"),
            "original_file": "https://zapsign.s3.amazonaws.com/original.pdf",
            "signers": signers,
        }
        self.docs[doc_token] = answer
        return answer

    def resend(self, token: str) -> tuple[int, dict]:
        """POST /docs/{token}/resend-notifications-bulk/: every pending signer, or the documented 400s."""
        doc = self.docs.get(token)
        if doc is None:
            return 404, {"detail": "Documento não encontrado."}
        if doc["status"] != "pending":
            return 400, {"detail": "document_not_in_progress"}
        pending = [s for s in doc["signers"] if s["status"] != "signed"]
        if not pending:
            return 400, {"detail": "no_pending_signers"}
        doc["reminders"] = doc.get("reminders", 0) + 1
        return 200, {
            "success": True,
            "total_signers": len(doc["signers"]),
            "sent_count": len(pending),
            "failed_count": 0,
            "failed_signers": [],
        }

    def refuse(self, body: dict, headers: dict) -> tuple[int, dict]:
        """POST /refuse/ {doc_token, rejected_reason}: an in-progress document becomes refused."""
        if not headers.get("user-agent"):
            return 400, {"detail": "User-Agent is required."}
        doc = self.docs.get(str(body.get("doc_token") or ""))
        if doc is None:
            return 404, {"detail": "Documento não encontrado."}
        if doc["status"] != "pending":
            return 400, {"detail": "O documento precisa estar em andamento."}
        doc["status"] = "refused"
        doc["rejected_reason"] = body.get("rejected_reason")
        return 200, {"token": doc["token"], "status": "refused"}

    def detail(self, token: str) -> dict | None:
        doc = self.docs.get(token)
        if doc is None:
            return None
        signed = f"{self.url}/files/{token}-signed.pdf?X-Amz-Expires=3600" if self.signed_ready else None
        return {**doc, "status": "signed" if self.signed_ready else "pending", "signed_file": signed}


def _handler(fake: FakeZapSign):
    class Handler(LoopbackHandler):
        def do_POST(self):
            raw = self.read_body()
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_raw": raw.decode(errors="replace")}
            fake.requests.append(Recorded("POST", self.path, self.lower_headers(), body))
            if fake.delay:
                time.sleep(fake.delay)
            known = self.path == "/api/v1/docs/" or self.path == "/api/v1/refuse/"
            resend = self.path.startswith("/api/v1/docs/") and self.path.endswith("/resend-notifications-bulk/")
            if not (known or resend):
                return self._answer(404, {"detail": "Not found."}, {})
            if self.headers.get("Authorization") != "Bearer zs-api-token":
                return self._answer(401, {"detail": "Token inválido."}, {})
            if fake.failures:
                status, answer, headers = fake.failures.pop(0)
                return self._answer(status, answer, headers)
            if resend:
                return self._answer(*fake.resend(self.path.split("/")[4]), {})
            if self.path == "/api/v1/refuse/":
                return self._answer(*fake.refuse(body, self.lower_headers()), {})
            return self._answer(200, fake.success(body), {})

        def do_GET(self):
            fake.requests.append(Recorded("GET", self.path, self.lower_headers(), {}))
            if self.path.startswith("/files/"):
                return self._answer(200, fake.signed_pdf, {}, content_type="application/pdf")
            if not self.path.startswith("/api/v1/docs/"):
                return self._answer(404, {"detail": "Not found."}, {})
            if self.headers.get("Authorization") != "Bearer zs-api-token":
                return self._answer(401, {"detail": "Token inválido."}, {})
            if fake.failures:
                status, answer, headers = fake.failures.pop(0)
                return self._answer(status, answer, headers)
            token = self.path[len("/api/v1/docs/") :].strip("/")
            if not token:
                return self._answer(200, {"count": len(fake.docs), "results": list(fake.docs.values())}, {})
            detail = fake.detail(token)
            if detail is None:
                return self._answer(404, {"detail": "Documento não encontrado."}, {})
            return self._answer(200, detail, {})

        def _answer(self, status: int, body, headers: dict, content_type: str = "application/json"):
            self.reply(status, body, headers, content_type=content_type)

    return Handler


@pytest.fixture
def zapsign_api(settings):
    settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    fake = FakeZapSign()
    with loopback_server(_handler(fake)) as fake.url:
        yield fake
