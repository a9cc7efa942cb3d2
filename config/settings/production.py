"""Production settings: refuse to start without the secrets docg cannot invent."""

import os

from django.core.exceptions import ImproperlyConfigured

for _name in ("SECRET_KEY", "FERNET_KEYS", "DATABASE_URL"):
    if not os.environ.get(_name):
        raise ImproperlyConfigured(f"{_name} must be set in production.")
os.environ.setdefault("DEBUG", "false")

from .base import *  # noqa: E402,F403
from .base import STORAGES  # noqa: E402

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Documents keep the storage chosen in base.py (S3/Spaces when a bucket is named).
# Hashed static names (the release step's collectstatic), served from STATIC_ROOT with a long immutable
# cache by ServeStatic (config/static.py); the editor's ES modules reach theirs through an import map.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
SERVESTATIC_USE_FINDERS = False
