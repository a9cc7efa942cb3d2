"""The organization stream pinned with `?organization=`: what a dashboard user of several organizations reads.

EventSource cannot send X-Organization-ID, so the runs list names the organization
in the URL. It must only ever select one of the session user's own organizations.
"""

import threading
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import transaction
from django.test import Client

from docg.executions import sse
from docg.executions.events import publish_event
from docg.executions.models import WorkflowExecution
from docg.executions.tests import sse_client
from docg.orgs.choices import Role
from docg.orgs.services import membership_add
from docg.orgs.tenancy import stream_token_issue
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes
from tests.fixtures.cast import api_client_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alice_in_two(cast):
    """Alice, owner of Acme, is also a member of Globex."""
    membership_add(organization=cast.globex, user=cast.alice, role=Role.MEMBER)
    return cast


def _execution(organization, owner) -> WorkflowExecution:
    workflow = workflow_create(organization=organization, by=owner, name="wf", nodes=linear_nodes())
    version = workflow_activate(workflow=workflow, by=owner)
    return WorkflowExecution.objects.create(organization=organization, workflow=workflow, workflow_version=version)


def _session_cookie(user) -> dict:
    client = Client()
    client.force_login(user)
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"}


def _stream_url(server, **query) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{server.url}/api/v1/sse/stream" + (f"?{params}" if params else "")


def _first_event_while_publishing(url: str, headers: dict, *executions: WorkflowExecution) -> sse_client.Session:
    """Open the stream, then publish `execution.created` for each execution in order; return at the first event."""
    connected = threading.Event()
    result: dict = {}

    def stop(session) -> bool:
        connected.set()  # the `retry:` frame: subscribed, nothing published from now on is missed
        return bool(session.events)

    def reader() -> None:
        try:
            result["session"] = sse_client.read(url, headers=headers, stop=stop)
        finally:
            connected.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    assert connected.wait(10), "the stream never opened"
    for execution in executions:
        with transaction.atomic():
            publish_event(execution, "execution.created", {})
    thread.join(15)
    assert not thread.is_alive(), "no event arrived"
    return result["session"]


def test_a_user_of_two_organizations_reads_only_the_one_named_in_the_url(live_server_asgi, alice_in_two):
    cast = alice_in_two
    acme_run, globex_run = _execution(cast.acme, cast.alice), _execution(cast.globex, cast.charlie)
    cookie = _session_cookie(cast.alice)

    # Without a choice the session names no organization: this is why the runs list used to poll.
    unpinned = sse_client.read(_stream_url(live_server_asgi), headers=cookie)
    assert (unpinned.status_code, "organization_required") == (400, unpinned.frames[0].json["error"]["code"])

    # Acme's event is published first: a stream pinned to Globex must skip it.
    pinned = _first_event_while_publishing(
        _stream_url(live_server_asgi, organization=cast.globex.pk), cookie, acme_run, globex_run
    )
    assert pinned.status_code == 200
    [event] = pinned.events
    assert (event.event, event.json["execution_id"]) == ("execution.created", str(globex_run.pk))
    assert event.json["organization_id"] == str(cast.globex.pk)

    acme = _first_event_while_publishing(
        _stream_url(live_server_asgi, organization=cast.acme.pk), cookie, globex_run, acme_run
    )
    assert [e.json["execution_id"] for e in acme.events] == [str(acme_run.pk)]


def test_an_organization_the_user_is_not_in_is_refused_before_any_stream(live_server_asgi, cast):
    bob = _session_cookie(cast.bob)  # Acme only
    for organization, status, code in [
        (cast.globex.pk, 404, "organization_not_found"),
        (uuid.uuid4(), 404, "organization_not_found"),
        ("globex", 400, "invalid_organization"),
    ]:
        refused = sse_client.read(_stream_url(live_server_asgi, organization=organization), headers=bob)
        assert refused.status_code == status, organization
        assert refused.frames[0].json["error"]["code"] == code
        assert "retry:" not in refused.frames[0].data


def test_header_and_parameter_must_agree_and_the_header_alone_still_works(live_server_asgi, alice_in_two):
    cast = alice_in_two
    cookie = _session_cookie(cast.alice)
    both = {**cookie, "X-Organization-ID": str(cast.acme.pk)}
    mismatch = sse_client.read(_stream_url(live_server_asgi, organization=cast.globex.pk), headers=both)
    assert (mismatch.status_code, mismatch.frames[0].json["error"]["code"]) == (400, "organization_mismatch")

    acme_run, globex_run = _execution(cast.acme, cast.alice), _execution(cast.globex, cast.charlie)
    header_only = _first_event_while_publishing(_stream_url(live_server_asgi), both, globex_run, acme_run)
    assert [e.json["execution_id"] for e in header_only.events] == [str(acme_run.pk)]

    jwt = {"Authorization": api_client_for(cast.alice)._credentials["HTTP_AUTHORIZATION"]}
    agreed = _first_event_while_publishing(
        _stream_url(live_server_asgi, organization=cast.acme.pk), {**jwt, "X-Organization-ID": str(cast.acme.pk)},
        globex_run, acme_run,
    )  # fmt: skip
    assert [e.json["execution_id"] for e in agreed.events] == [str(acme_run.pk)]


def test_a_stream_token_still_opens_only_its_execution(live_server_asgi, cast):
    run = _execution(cast.acme, cast.alice)
    token = stream_token_issue(execution=run, user=cast.alice)
    refused = sse_client.read(_stream_url(live_server_asgi, token=token, organization=cast.acme.pk))
    assert (refused.status_code, refused.frames[0].json["error"]["code"]) == (401, "stream_token_invalid")


def _asgi_get(path: str, query: str = "", headers: dict | None = None) -> tuple[int, bytes]:
    """One GET through the SSE app in this process; Django behind it answers everything else."""
    sent: list = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def django(scope, receive, send):
        raise AssertionError(f"{path} reached Django")

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    async_to_sync(sse.SSEApplication(django))(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_the_asgi_app_refuses_in_process_too(cast):
    # The same rules without a server: a foreign organization, a malformed one, no credentials.
    cookie = _session_cookie(cast.bob)
    status, body = _asgi_get("/api/v1/sse/stream", f"organization={cast.globex.pk}", cookie)
    assert (status, b"organization_not_found" in body) == (404, True)
    assert _asgi_get("/api/v1/sse/stream", "organization=nope", cookie)[0] == 400
    assert _asgi_get(f"/api/v1/sse/executions/{uuid.uuid4()}/stream")[0] == 401
