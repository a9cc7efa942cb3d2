"""Test runs leave no event-stream keys behind in Redis (the session fixture in tests/fixtures/engine.py)."""

import uuid

import pytest
from django.conf import settings

from docg.executions.streams import execution_key, get_streams, organization_key
from tests.fixtures.engine import stream_keys, stream_keys_sweep


@pytest.mark.skipif(not settings.REDIS_URL, reason="embedded mode keeps streams in memory")
def test_the_sweep_deletes_the_stream_keys_a_session_added_and_keeps_the_others():
    client = get_streams().client
    kept = execution_key(uuid.uuid4())
    client.xadd(kept, {"event": "{}"})
    try:
        before = stream_keys(client)
        added = [execution_key(uuid.uuid4()), organization_key(uuid.uuid4())]
        get_streams().append_many([(key, {"event_type": "execution.created"}) for key in added])
        assert set(added) <= stream_keys(client)
        assert stream_keys_sweep(client, before) == 2
        assert not (set(added) & stream_keys(client))
        assert client.exists(kept)
    finally:
        client.delete(kept)
