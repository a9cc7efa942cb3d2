import io
import re

import pytest
from django.core.management import call_command

from docg.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, demo_seed
from docg.orgs.choices import Role
from docg.orgs.models import Membership, Organization, User
from docg.workflows.choices import WorkflowStatus
from docg.workflows.models import Workflow, WorkflowVersion

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seeding_twice_creates_everything_once():
    first = seed()
    second = seed()

    assert "created user, organization, template 'Services contract', workflow 'Sales contract'" in first
    assert "nothing new" in second
    assert User.objects.count() == 1
    assert Organization.objects.filter(name="Demo Co").count() == 1
    assert Membership.objects.get().role == Role.OWNER
    workflow = Workflow.objects.get(name="Sales contract")
    assert workflow.status == WorkflowStatus.ACTIVE
    assert WorkflowVersion.objects.count() == 2  # Sales contract and Quote request; the third is a draft
    nodes = workflow.active_version.definition["nodes"]
    assert [(n["key"], n["app"], n["operation"]) for n in nodes] == [
        ("start", "webhook", "catch_hook"),
        ("prepare", "core", "set_variables"),
        ("render", "docx", "render"),
        ("approve", "core", "approval"),
        ("pdf", "pdf", "convert"),
        ("remember", "core", "datastore_set"),
    ]


def test_demo_user_logs_in_with_the_printed_password(client):
    output = seed()
    email, password = re.search(r"Log in as (\S+) / (\S+)", output).groups()

    assert (email, password) == (DEMO_EMAIL, DEMO_PASSWORD)
    assert client.login(email=email, password=password)
    assert client.get("/admin/").status_code == 200


def test_seed_reuses_an_existing_demo_user_and_restores_its_password():
    user = User.objects.create_user(email=DEMO_EMAIL, password="something else entirely")

    result = demo_seed()

    assert result.user == user
    assert result.created[:3] == ["organization", "template 'Services contract'", "workflow 'Sales contract'"]
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)
    assert user.is_staff and user.is_superuser
