import os
import sys

from django.apps import AppConfig
from django.conf import settings


class ExecutionsConfig(AppConfig):
    name = "docg.executions"
    label = "executions"
    verbose_name = "Executions"

    def ready(self) -> None:
        # The actors register with docg.executions.dispatch, which sends every engine message,
        # in every process (web, worker, manage.py), not only where Dramatiq discovers them.
        from docg.executions import actors  # noqa: F401

        # Only the serving process runs the embedded worker, never manage.py migrate & co.
        if settings.DOCG_EMBEDDED_WORKER and "pytest" not in sys.modules and not os.environ.get("DOCG_NO_WORKER"):
            from docg.executions.embedded import start_embedded_worker

            start_embedded_worker()
