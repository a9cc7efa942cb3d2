"""A websocket handshake from a foreign site is refused, whatever credentials it carries."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from docg.executions.models import WorkflowExecution
from docg.workflows.services import workflow_activate, workflow_create
from docg.workflows.tests.factories import linear_nodes

pytestmark = pytest.mark.django_db(transaction=True)


@async_to_sync
async def _connect(path: str, headers: list[tuple[bytes, bytes]]) -> tuple[bool, int | None]:
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=10)
    await communicator.disconnect()
    return connected, code


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.fixture
def execution(cast):
    workflow = workflow_create(organization=cast.acme, by=cast.alice, name="wf", nodes=linear_nodes())
    version = workflow_activate(workflow=workflow, by=cast.alice)
    return WorkflowExecution.objects.create(organization=cast.acme, workflow=workflow, workflow_version=version)


def test_a_foreign_origin_with_the_session_cookie_is_refused(cast, execution):
    cookie = _session_cookie(cast.alice)
    path = f"/ws/executions/{execution.pk}/"
    assert _connect(path, [(b"origin", b"https://evil.example"), (b"cookie", cookie)])[0] is False
    assert _connect(path, [(b"origin", b"http://evil.localhost.example"), (b"cookie", cookie)])[0] is False


def test_the_sites_own_origin_and_non_browser_clients_connect(cast, execution):
    cookie = _session_cookie(cast.alice)
    path = f"/ws/executions/{execution.pk}/"
    assert _connect(path, [(b"origin", b"http://testserver"), (b"cookie", cookie)])[0] is True
    assert _connect(path, [(b"cookie", cookie)])[0] is True
