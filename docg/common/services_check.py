"""Make sure the PostgreSQL, Redis and RabbitMQ that the settings name are up, starting local ones if needed.

Used by `manage.py ensure_services` before the test suite runs. Nothing here
goes through Django's database connection: the database may not exist yet.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})
POSTGRES_ENGINE = "django.db.backends.postgresql"
POSTGRES_CONFIG_DIR = Path("/etc/postgresql")


class ServiceError(Exception):
    """A service is down and could not be brought up; the message is one sentence for a person."""


@dataclass(frozen=True)
class Endpoint:
    name: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.name} {self.host}:{self.port}"


def accepts_connections(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something listens on host:port (a TCP connect succeeds)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(endpoint: Endpoint, *, deadline_seconds: float = 30.0, interval: float = 0.2) -> bool:
    """Poll the endpoint until it accepts connections or the deadline passes."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        if accepts_connections(endpoint.host, endpoint.port, timeout=interval):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def postgres_endpoint(database: dict) -> Endpoint | None:
    """Host and port of the configured PostgreSQL, or None when the database is not PostgreSQL."""
    if database.get("ENGINE") != POSTGRES_ENGINE:
        return None
    host = database.get("HOST") or "127.0.0.1"
    if host.startswith("/"):
        # A Unix socket directory: the server behind it listens on TCP localhost too on this machine.
        host = "127.0.0.1"
    return Endpoint("PostgreSQL", host, int(database.get("PORT") or 5432))


def redis_endpoint(url: str) -> Endpoint | None:
    """Host and port of a redis:// or rediss:// URL, or None when Redis is not configured."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        return None
    return Endpoint("Redis", parts.hostname or "127.0.0.1", parts.port or 6379)


def rabbitmq_endpoint(url: str) -> Endpoint | None:
    """Host and port of an amqp:// or amqps:// URL, or None when the broker is not RabbitMQ."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"amqp", "amqps"}:
        return None
    return Endpoint(
        "RabbitMQ", parts.hostname or "127.0.0.1", parts.port or (5671 if parts.scheme == "amqps" else 5672)
    )


def _rabbitmq_start_command() -> list[str] | None:
    if not shutil.which("rabbitmq-server"):
        return None
    return ["rabbitmq-server", "-detached"]


def _postgres_start_command() -> list[str] | None:
    if not shutil.which("pg_ctlcluster") or not POSTGRES_CONFIG_DIR.is_dir():
        return None
    versions = sorted(
        (p.name for p in POSTGRES_CONFIG_DIR.iterdir() if p.is_dir()),
        key=lambda v: [int(x) for x in v.split(".") if x.isdigit()],
    )
    if not versions:
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]


def _redis_start_command(port: int) -> list[str] | None:
    if not shutil.which("redis-server"):
        return None
    for directory in ("/var/lib/redis", "/var/log/redis"):
        # redis-server reports it below if it truly cannot write there.
        with contextlib.suppress(OSError):
            os.makedirs(directory, exist_ok=True)
    return [
        "redis-server",
        "--daemonize",
        "yes",
        "--bind",
        "127.0.0.1",
        "-::1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        "/var/lib/redis",
        "--logfile",
        "/var/log/redis/ci.log",
    ]


_NOT_INSTALLED = {
    "PostgreSQL": (
        "PostgreSQL is not installed on this machine: install the postgresql package "
        "or set DATABASE_URL to a reachable server."
    ),
    "Redis": (
        "Redis is not installed on this machine: install the redis-server package "
        "or set REDIS_URL to a reachable server."
    ),
    "RabbitMQ": (
        "RabbitMQ is not installed on this machine: install the rabbitmq-server package "
        "or set BROKER_URL to a reachable server."
    ),
}
_ENV_VAR = {"PostgreSQL": "DATABASE_URL", "Redis": "REDIS_URL", "RabbitMQ": "BROKER_URL"}
_START_COMMANDS = {
    "PostgreSQL": lambda endpoint: _postgres_start_command(),
    "Redis": lambda endpoint: _redis_start_command(endpoint.port),
    "RabbitMQ": lambda endpoint: _rabbitmq_start_command(),
}


def ensure_up(endpoint: Endpoint, *, deadline_seconds: float = 30.0) -> str:
    """Bring the endpoint up if it is a local service that is down; returns how it was found."""
    if accepts_connections(endpoint.host, endpoint.port):
        return "up (already running)"
    if endpoint.host not in LOCAL_HOSTS:
        raise ServiceError(
            f"{endpoint} does not accept connections and is not on this machine: "
            f"start it or point {_ENV_VAR[endpoint.name]} elsewhere."
        )
    command = _START_COMMANDS[endpoint.name](endpoint)
    if command is None:
        raise ServiceError(_NOT_INSTALLED[endpoint.name])
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=deadline_seconds)  # noqa: S603
    if not wait_for(endpoint, deadline_seconds=deadline_seconds):
        said = (result.stderr or result.stdout).strip().splitlines()
        reason = f" ({said[-1]})" if said else ""
        raise ServiceError(
            f"{endpoint} did not accept connections within {deadline_seconds:g} s "
            f"after `{' '.join(command[:3])} …`{reason}."
        )
    return "up (started)"


def ensure_database(database: dict) -> str:
    """Create the configured database if missing, so the test runner can create test_<name> beside it."""
    name = database["NAME"]
    params = {
        "host": database.get("HOST") or "127.0.0.1",
        "port": int(database.get("PORT") or 5432),
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "connect_timeout": 5,
        "autocommit": True,
    }
    last_error: Exception | None = None
    for maintenance_db in ("postgres", "template1"):
        try:
            connection = psycopg.connect(dbname=maintenance_db, **params)
        except psycopg.OperationalError as exc:
            last_error = exc
            continue
        with connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists:
                return f"database {name!r} exists"
            try:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.errors.DuplicateDatabase:
                # Another process created it between our check and our CREATE.
                return f"database {name!r} exists"
            return f"database {name!r} created"
    raise ServiceError(f"PostgreSQL accepts connections but docg cannot log in to it: {last_error}".rstrip() + ".")


def ensure_services(
    *, databases: dict, redis_url: str, broker_url: str = "", deadline_seconds: float = 30.0
) -> list[str]:
    """Check (and start where needed) every configured service; one report line per service."""
    lines = []
    database = databases.get("default", {})
    postgres = postgres_endpoint(database)
    if postgres is None:
        lines.append(f"PostgreSQL: skipped (the database is {database.get('ENGINE', 'not configured')})")
    else:
        state = ensure_up(postgres, deadline_seconds=deadline_seconds)
        lines.append(f"{postgres}: {state}, {ensure_database(database)}")
    redis = redis_endpoint(redis_url)
    if redis is None:
        lines.append(
            "Redis: skipped (REDIS_URL is not a redis:// URL)" if redis_url else "Redis: skipped (no REDIS_URL)"
        )
    else:
        lines.append(f"{redis}: {ensure_up(redis, deadline_seconds=deadline_seconds)}")
    rabbitmq = rabbitmq_endpoint(broker_url)
    if rabbitmq is not None:
        # RabbitMQ boots an Erlang VM: give it longer than the others.
        lines.append(f"{rabbitmq}: {ensure_up(rabbitmq, deadline_seconds=max(deadline_seconds, 60.0))}")
    return lines
