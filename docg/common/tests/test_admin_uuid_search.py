"""Admin search finds a pasted execution id or correlation id ("Reference for support") on both databases.

Django's admin compares `id__exact` search fields as text, and the text of a UUID differs: dashed and
lower case on PostgreSQL, 32 hex digits on SQLite (embedded mode).
"""

import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from docg.common.tests.test_admin import make_objects
from docg.executions.models import WorkflowExecution
from docg.orgs.models import User

pytestmark = pytest.mark.django_db


def test_execution_search_finds_ids_however_they_are_pasted(cast):
    execution = make_objects(cast.acme, cast.alice)[WorkflowExecution]
    make_objects(cast.globex, cast.charlie)  # another execution that must not match
    client = Client()
    client.force_login(User.objects.create_superuser(email="staff@example.com", password="x"))
    url = reverse("admin:executions_workflowexecution_changelist")
    for term in (
        str(execution.pk),
        str(execution.pk).upper(),
        f" {execution.pk.hex} ",
        f'"{execution.correlation_id}"',
        str(execution.correlation_id).upper(),
    ):
        found = list(client.get(url, {"q": term}).context["cl"].queryset)
        assert found == [execution], term


SQLITE_SEARCH = textwrap.dedent(
    """
    import django
    django.setup()
    from django.contrib.admin.sites import site
    from django.core.management import call_command
    from django.test import RequestFactory
    call_command("migrate", verbosity=0)
    from docg.common.tests.test_admin import make_objects
    from docg.executions.models import WorkflowExecution
    from docg.orgs.models import User
    from docg.orgs.services import organization_create
    user = User.objects.create_superuser(email="staff@example.com", password="x")
    execution = make_objects(organization_create(name="Acme", owner=user), user)[WorkflowExecution]
    model_admin = site._registry[WorkflowExecution]
    request = RequestFactory().get("/")
    request.user = user
    for term in (str(execution.pk), str(execution.correlation_id).upper()):
        found, _ = model_admin.get_search_results(request, WorkflowExecution.objects.all(), term)
        print(list(found) == [execution])
    """
)


@pytest.mark.slow
def test_execution_search_finds_ids_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        REDIS_URL="",
        DOCG_ENV_FILE=str(tmp_path / "none.env"),
        MEDIA_ROOT=str(tmp_path / "media"),
        EMAIL_URL="memorymail://",  # the invitation make_objects sends stays out of stdout
    )
    ran = subprocess.run(
        [sys.executable, "-c", SQLITE_SEARCH],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.split() == ["True", "True"], ran.stdout


def test_every_admin_searching_a_uuid_spells_it_as_stored():
    from django.contrib import admin
    from django.contrib.admin.utils import get_fields_from_path

    from docg.common.admin_search import UUIDSearchMixin

    missing = []
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.search_fields:
            if name.endswith("__exact"):
                field = get_fields_from_path(model, name.removesuffix("__exact"))[-1]
                if field.get_internal_type() == "UUIDField" and not isinstance(model_admin, UUIDSearchMixin):
                    missing.append(model._meta.label)
    assert missing == []
