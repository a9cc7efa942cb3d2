"""Production settings: refuse to start without the secrets docg cannot invent."""

import os
import sys

from .environment import ENV_FILE, read_env_file

# The .env file counts as environment here too: read it before checking (base.py's read then changes nothing).
read_env_file()
_missing = [name for name in ("SECRET_KEY", "FERNET_KEYS", "DATABASE_URL") if not os.environ.get(name)]
if _missing:
    # One line naming everything to set, not a traceback per variable.
    sys.exit(
        f"docg will not start in production: {', '.join(_missing)} "
        f"{'is' if len(_missing) == 1 else 'are'} not set. Set {'it' if len(_missing) == 1 else 'them'} "
        f"in the environment or in {ENV_FILE}."
    )
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
