"""config.settings.production reads .env before it checks, and names every missing secret at once."""

import os
import subprocess
import sys

from django.conf import settings

REQUIRED = ("SECRET_KEY", "FERNET_KEYS", "DATABASE_URL")
LOAD = "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['NAME'])"


def start_production(env_file) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED and not k.startswith("PYTEST")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", DOCG_ENV_FILE=str(env_file))
    return subprocess.run(
        [sys.executable, "-c", LOAD], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_takes_its_secrets_from_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "SECRET_KEY=a-production-secret\n"
        "FERNET_KEYS=ZmRzYWZkc2FmZHNhZmRzYWZkc2FmZHNhZmRzYWZkc2E=\n"
        "DATABASE_URL=postgres://docg@db.example:5432/docg_from_env_file\n"
    )
    started = start_production(env_file)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "docg_from_env_file"


def test_production_names_every_missing_secret_in_one_message_without_a_traceback(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=a-production-secret\n")
    started = start_production(env_file)
    assert started.returncode != 0
    assert "Traceback" not in started.stderr, started.stderr
    message = started.stderr.strip().splitlines()
    assert len(message) == 1, started.stderr
    assert "FERNET_KEYS" in message[0] and "DATABASE_URL" in message[0], message
    assert "SECRET_KEY" not in message[0], message  # the .env file set it
    assert str(env_file) in message[0], message


def test_links_docg_sends_out_default_to_the_port_it_serves():
    """`PORT=18101 make run`: webhook, OAuth and HubSpot URLs name port 18101 unless FRONTEND_URL says otherwise."""
    env = {k: v for k, v in os.environ.items() if k != "FRONTEND_URL" and not k.startswith("PYTEST")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", DOCG_ENV_FILE="/nonexistent/.env", PORT="18101")
    show = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.FRONTEND_URL, s.OAUTH_REDIRECT_BASE_URL, s.HUBSPOT_WEBHOOK_BASE_URL)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", show], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["http://127.0.0.1:18101"] * 3
