import contextlib
import io
import shutil
import socket

import pytest
import redis
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.urls import re_path

from docg.common import services_check

# A URLconf for the test that needs a name nothing can reverse (three capitals).
urlpatterns = [re_path(r"^codes/(?P<code>[A-Z]{3})/$", lambda request, code: HttpResponse(), name="by-code")]


def run(command: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def row(output: str, name: str) -> list[str]:
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if cells[0] == name:
            return cells
    raise AssertionError(f"no row {name!r} in:\n{output}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_verify_setup_prints_a_table_and_passes_on_this_machine():
    code, output = run("verify_setup")

    assert code == 0, output
    assert row(output, "check") == ["check", "status", "detail"]
    for name in ("database", "migrations", "redis", "event stream", "storage", "url names"):
        assert row(output, name)[1] == "OK", output
    assert row(output, "libreoffice")[1] in {"OK", "WARN"}
    assert "All checks passed." in output


@pytest.mark.django_db
def test_verify_setup_exits_1_when_redis_is_closed(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    code, output = run("verify_setup")

    assert code == 1
    assert row(output, "redis")[1] == "FAIL"
    assert row(output, "event stream")[1] == "FAIL"
    assert row(output, "database")[1] == "OK"


@pytest.mark.django_db
def test_verify_setup_reports_embedded_mode_without_redis(settings):
    settings.REDIS_URL = ""

    code, output = run("verify_setup")

    assert code == 0, output
    assert row(output, "redis")[1:] == ["OK", "embedded mode (no Redis)"]
    assert row(output, "event stream")[1:] == ["OK", "in-process"]


@pytest.mark.django_db
def test_verify_setup_fails_on_a_url_name_that_cannot_be_reversed(settings):
    settings.ROOT_URLCONF = __name__

    code, output = run("verify_setup")

    assert code == 1
    assert row(output, "url by-code")[1:] == ["FAIL", "cannot be reversed"]


def test_stream_check_leaves_no_key_behind(settings):
    from docg.common.setup_checks import check_stream

    client = redis.Redis.from_url(settings.REDIS_URL)
    before = set(client.scan_iter("docg:verify:*"))

    assert check_stream().status == "OK"
    assert set(client.scan_iter("docg:verify:*")) == before


def test_ensure_services_reports_both_services_up():
    code, output = run("ensure_services")

    assert code == 0
    lines = output.splitlines()
    assert len(lines) == 2, output
    assert lines[0].startswith("PostgreSQL ") and ": up (" in lines[0] and "database" in lines[0]
    assert lines[1].startswith("Redis ") and ": up (" in lines[1]


def test_ensure_services_fails_in_one_sentence_when_redis_is_not_installed(settings, monkeypatch):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setattr(services_check.shutil, "which", lambda name: None)

    with pytest.raises(CommandError) as caught:
        call_command("ensure_services", stdout=io.StringIO())

    assert str(caught.value).startswith("Redis is not installed on this machine:")
    assert str(caught.value).count(".") == 1 and str(caught.value).endswith(".")


def test_ensure_services_fails_in_one_sentence_when_postgresql_is_not_installed(monkeypatch):
    monkeypatch.setattr(services_check.shutil, "which", lambda name: None)
    databases = {"default": {"ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1", "PORT": free_port()}}

    with pytest.raises(services_check.ServiceError) as caught:
        services_check.ensure_services(databases=databases, redis_url="")

    assert str(caught.value) == (
        "PostgreSQL is not installed on this machine: install the postgresql package "
        "or set DATABASE_URL to a reachable server."
    )


def test_ensure_services_skips_what_is_not_configured():
    lines = services_check.ensure_services(
        databases={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}, redis_url=""
    )

    assert lines == [
        "PostgreSQL: skipped (the database is django.db.backends.sqlite3)",
        "Redis: skipped (no REDIS_URL)",
    ]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_ensure_services_starts_a_local_redis_that_is_down(settings):
    port = free_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    try:
        code, output = run("ensure_services")

        assert code == 0
        assert f"Redis 127.0.0.1:{port}: up (started)" in output
        assert redis.Redis(port=port).ping()
    finally:
        # Stop only the server this test started.
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis(port=port, socket_connect_timeout=1).shutdown(nosave=True)


def test_libreoffice_warns_when_its_python_cannot_import_uno(settings):
    """soffice alone is not enough: without python3-uno there is no warm pool and every PDF starts cold."""
    import sys

    from docg.common.setup_checks import check_libreoffice

    settings.LIBREOFFICE_PYTHON = sys.executable  # docg's virtualenv never has uno
    result = check_libreoffice()
    assert result.status == "WARN", result
    assert "python3-uno" in result.detail and "cold" in result.detail, result.detail

    settings.LIBREOFFICE_PYTHON = "/usr/bin/python3"  # Debian's, with python3-uno (make test installs it)
    settings.LIBREOFFICE_SOFFICE = "soffice"
    result = check_libreoffice()
    assert result.status == "OK", result
    assert "warm" in result.detail, result.detail

    settings.LIBREOFFICE_SOFFICE = "/nonexistent/soffice"
    result = check_libreoffice()
    assert result.status == "WARN", result
    assert "/nonexistent/soffice" in result.detail, result.detail


def test_libreoffice_warns_when_calc_is_missing(settings, tmp_path):
    """Debian installs LibreOffice by application: without Calc, .xlsx documents cannot become PDFs."""
    from docg.common.setup_checks import check_libreoffice

    program = tmp_path / "program"
    program.mkdir()
    soffice = program / "soffice"
    soffice.write_text("#!/bin/sh\n")
    soffice.chmod(0o755)
    (program / "libswlo.so").write_bytes(b"")
    settings.LIBREOFFICE_SOFFICE = str(soffice)
    settings.LIBREOFFICE_PYTHON = "/usr/bin/python3"
    result = check_libreoffice()
    assert result.status == "WARN" and "libreoffice-calc-nogui" in result.detail, result
    (program / "libsclo.so").write_bytes(b"")
    assert check_libreoffice().status == "OK"
