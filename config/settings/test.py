"""Test settings: always real PostgreSQL and Redis, never SQLite."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/docg")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DEBUG", "false")
# No connection pool in the test process: pytest-django closes and reopens connections around
# transactional tests (and tests repoint them at a dead server), which a pool would outlive. The
# servers tests start (the Procfile's web line) run with config.settings.test too, so the pool is
# measured by `manage.py benchmark webhook`, which runs the base settings.
os.environ.setdefault("DATABASE_POOL", "false")

from .base import *  # noqa: F403
from .base import DATABASES, MEDIA_ROOT

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise RuntimeError("docg's tests run on PostgreSQL: set DATABASE_URL to a postgres:// URL.")

# The whole suite signs in from 127.0.0.1; throttling's own tests set low rates.
AUTH_THROTTLE_RATES = {"credentials_ip": "100000/minute", "credentials_account": "100000/minute"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = MEDIA_ROOT.parent / "media-test"
