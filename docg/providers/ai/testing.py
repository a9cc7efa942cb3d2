"""Test helpers: a fake OpenAI-compatible API on loopback that checks what docg sends.

`fake.answers` is a list of replies given, in order, to the next requests; once
it is empty every request gets `fake.default`. A reply is `("success", obj)`
(obj becomes `choices[0].message.content` as JSON), `("raw", content)`, `("refusal", text)`,
`(status, error body)` or `(status, error body, headers)`. GET /v1/models answers
the model list to the right key (401 to another), or `fake.models_answer`.
"""

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from docg.connectors.testing import LoopbackHandler, loopback_server

API_KEY = "sk-test-0123456789"
PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
# GET /v1/models as OpenAI documents it (the connection test's call).
MODELS = {
    "object": "list",
    "data": [{"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"}],
}

UNAUTHORIZED = {
    "error": {
        "message": "Incorrect API key provided: sk-test-****6789.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
RATE_LIMITED = {
    "error": {
        "message": "Rate limit reached for requests per minute.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}
SERVER_ERROR = {"error": {"message": "The server had an error while processing your request.", "type": "server_error"}}
NOT_FOUND = {
    "error": {
        "message": "The model `gpt-missing` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }
}


def completion(content: str | None, model: str = "gpt-4o-mini", refusal: str | None = None) -> dict:
    """A chat completion body as OpenAI documents it."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1735689600,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 42, "completion_tokens": 12, "total_tokens": 54},
    }


@dataclass
class FakeAi:
    url: str = ""
    answers: list[tuple] = field(default_factory=list)
    default: tuple = ("success", {})
    # GET /v1/models: None answers MODELS (a valid key gets 200, another key 401); else (status, body).
    models_answer: tuple | None = None
    received: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, method: str, path: str, headers: dict, body: bytes) -> list[str]:
        """Everything the request does differently from what OpenAI documents."""
        problems = []
        if (method, path) != ("POST", PATH):
            problems.append(f"{method} {path} instead of POST {PATH}")
        if headers.get("authorization") != f"Bearer {API_KEY}":
            problems.append(f"Authorization is {headers.get('authorization')!r}")
        if not headers.get("x-correlation-id"):
            problems.append("no X-Correlation-ID")
        if not (headers.get("content-type") or "").startswith("application/json"):
            problems.append(f"Content-Type is {headers.get('content-type')!r}")
        try:
            payload = json.loads(body)
        except ValueError:
            return [*problems, "the body is not JSON"]
        if not isinstance(payload.get("model"), str) or not payload["model"]:
            problems.append("no model")
        messages = payload.get("messages")
        if not (isinstance(messages, list) and messages and all({"role", "content"} <= set(m) for m in messages)):
            problems.append(f"messages are {messages!r}")
        response_format = payload.get("response_format") or {}
        schema = response_format.get("json_schema") or {}
        if response_format.get("type") != "json_schema":
            problems.append(f"response_format.type is {response_format.get('type')!r}")
        if set(schema) != {"name", "schema", "strict"} or schema.get("strict") is not True:
            problems.append(f"response_format.json_schema is {schema!r}")
        if not isinstance(schema.get("schema"), dict) or not str(schema.get("name", "")).replace("_", "").isalnum():
            problems.append("json_schema needs a name and a schema object")
        return problems

    def check_models(self, headers: dict) -> list[str]:
        """GET /v1/models (the connection test) needs only the key and the correlation id."""
        problems = []
        if headers.get("authorization") != f"Bearer {API_KEY}":
            problems.append(f"Authorization is {headers.get('authorization')!r}")
        if not headers.get("x-correlation-id"):
            problems.append("no X-Correlation-ID")
        return problems

    def next_answer(self) -> tuple:
        with self.lock:
            return self.answers.pop(0) if self.answers else self.default


class _Handler(LoopbackHandler):
    def _answer(self) -> None:
        fake: FakeAi = self.server.fake
        body = self.read_body()
        headers = self.lower_headers()
        if (self.command, self.path) == ("GET", MODELS_PATH):
            self._models(fake, headers)
            return
        problems = fake.check(self.command, self.path, headers, body)
        fake.received.append(
            {"method": self.command, "path": self.path, "headers": headers, "json": _json(body), "problems": problems}
        )
        if problems:
            fake.problems.extend(problems)
            self._send(400, {"error": {"message": "; ".join(problems), "type": "invalid_request_error"}})
            return
        answer = fake.next_answer()
        if answer[0] == "success":
            self._send(200, completion(json.dumps(answer[1])))
        elif answer[0] == "refusal":
            self._send(200, completion(None, refusal=answer[1]))
        elif answer[0] == "raw":
            self._send(200, completion(answer[1]))
        else:
            self._send(answer[0], answer[1], answer[2] if len(answer) > 2 else {})

    def _models(self, fake: "FakeAi", headers: dict) -> None:
        fake.received.append({"method": "GET", "path": MODELS_PATH, "headers": headers, "json": None, "problems": []})
        if fake.check_models(headers):
            self._send(401, UNAUTHORIZED)
        elif fake.models_answer is not None:
            self._send(*fake.models_answer)
        else:
            self._send(200, MODELS)

    def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
        self.reply(status, payload, {"x-request-id": "req_test", **(headers or {})})

    do_GET = do_POST = do_PUT = _answer


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


@pytest.fixture
def fake_ai():
    """A fake OpenAI-compatible API on 127.0.0.1:<free port>; `.url` is the base URL (…/v1)."""
    fake = FakeAi()
    with loopback_server(_Handler, poll_interval=0.05, fake=fake) as url:
        fake.url = f"{url}/v1"
        yield fake
