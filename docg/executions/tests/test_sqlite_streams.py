"""Embedded mode (SQLite, no Redis): live events are shared between processes through a table in the SQLite
file, so a run started by `manage.py run_workflow` reaches the SSE clients of the `make run` server."""

import asyncio
import subprocess
import sys
import uuid

import pytest

from docg.executions.hub import Hub
from docg.executions.streams import SqliteStreams, _backend, embedded_sqlite_path, execution_key

EVENT = {"event_type": "execution.created", "execution_id": "x"}


@pytest.fixture
def db_file(tmp_path):
    return str(tmp_path / "db.sqlite3")


def test_two_stores_on_one_file_see_each_others_events_in_order(db_file):
    writer, reader = SqliteStreams(db_file, maxlen=3), SqliteStreams(db_file, maxlen=3)
    key = execution_key(uuid.uuid4())
    assert not reader.bounds(key).exists
    ids = writer.append_many([(key, {**EVENT, "n": n}) for n in range(5)])
    assert reader.epoch() == writer.epoch()
    # maxlen keeps the newest entries and says what was trimmed, as Redis does.
    entries = reader.read(key)
    assert [p["n"] for _, p in entries] == [2, 3, 4]
    assert [i for i, _ in entries] == ids[2:]
    bounds = reader.bounds(key)
    assert (bounds.first_id, bounds.last_id, bounds.max_deleted_id) == (ids[2], ids[4], ids[1])
    assert [p["n"] for _, p in reader.read(key, after=ids[3])] == [4]
    assert key in reader.keys("docg:exec:")
    reader.delete(key)
    assert not writer.bounds(key).exists


def test_the_embedded_backend_is_the_sqlite_file_when_there_is_no_redis(db_file):
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": db_file}
    assert embedded_sqlite_path(sqlite) == db_file
    assert isinstance(_backend("", 100, 60, embedded_sqlite_path(sqlite)), SqliteStreams)
    assert embedded_sqlite_path({"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}) == ""
    assert embedded_sqlite_path({"ENGINE": "django.db.backends.postgresql", "NAME": "docg"}) == ""


def test_a_subscriber_gets_an_event_another_process_wrote(db_file):
    key = execution_key(uuid.uuid4())
    store = SqliteStreams(db_file, maxlen=100)
    store.epoch()  # the table exists before the other process writes

    async def follow():
        hub = Hub(store, asyncio.get_running_loop())
        subscription = await hub.subscribe(key)
        script = (
            "import sys; from docg.executions.streams import SqliteStreams; "
            "SqliteStreams(sys.argv[1], maxlen=100).append_many([(sys.argv[2], {'event_type': 'step.started'})])"
        )
        await asyncio.to_thread(subprocess.run, [sys.executable, "-c", script, db_file, key], check=True)
        try:
            return await subscription.get(timeout=10)
        finally:
            subscription.close()

    entry_id, event = asyncio.run(follow())
    assert event["event_type"] == "step.started"
    assert store.read(key)[0][0] == entry_id
