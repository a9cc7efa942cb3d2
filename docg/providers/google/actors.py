"""The Google Forms poll as a Dramatiq actor: thin, the work is in polling.py.

Imported by triggers.py, so every process that loads the connector registry
(web, workers) knows the actor.
"""

import dramatiq
from django.db import close_old_connections


@dramatiq.actor(queue_name="webhooks", actor_name="docg.poll_google_forms", max_retries=0, time_limit=10 * 60 * 1000)
def poll_google_forms() -> None:
    from docg.providers.google.polling import forms_poll_all

    try:
        forms_poll_all()
    finally:
        close_old_connections()
