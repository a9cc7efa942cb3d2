"""Google Forms polling against the loopback fake: one run per response, however often it is seen."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command

from docg.executions.models import WorkflowExecution
from docg.providers.google import schedule
from docg.providers.google.polling import WATERMARK_KEY, forms_poll_all, parse_time
from docg.providers.google.tests.helpers import google_connection
from docg.workflows.models import WebhookDelivery, WorkflowDatastore
from docg.workflows.services import workflow_activate, workflow_create

FORM = "1FAIpQLSfForm"


def _response(n: int, submitted: str) -> dict:
    return {
        "responseId": f"ACYDBNj-{n}",
        "createTime": submitted,
        "lastSubmittedTime": submitted,
        "respondentEmail": f"person{n}@client.example",
        "answers": {
            "7a1b2c3d": {"questionId": "7a1b2c3d", "textAnswers": {"answers": [{"value": f"Person {n}"}]}},
            "11aa22bb": {
                "questionId": "11aa22bb",
                "textAnswers": {"answers": [{"value": "Docs"}, {"value": "Slides"}]},
            },
        },
    }


def _forms_workflow(cast, connection, organization=None):
    organization = organization or cast.acme
    owner = cast.charlie if organization == cast.globex else cast.alice
    nodes = [
        {
            "key": "start",
            "kind": "trigger",
            "app": "google_forms",
            "operation": "new_response",
            "connection": connection,
            "parameters": {"form_id": FORM},
        },
        {"key": "note", "kind": "action", "app": "core", "operation": "set_variables",
         "parameters": {"variables": {"who": "{{ trigger.answers['7a1b2c3d'] }}"}}},
    ]  # fmt: skip
    workflow = workflow_create(organization=organization, by=owner, name="forms", nodes=nodes)
    version = workflow_activate(workflow=workflow, by=owner)
    return workflow, version


def _stamp(version, seconds: float) -> str:
    moment = version.created_at + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"  # nanoseconds, like Google


@pytest.mark.django_db
def test_two_overlapping_polls_start_exactly_one_run_per_response(cast, google_api):
    connection = google_connection(cast)
    workflow, version = _forms_workflow(cast, connection)
    before = _response(0, _stamp(version, -60))  # submitted before activation: starts nothing
    first, second = _response(1, _stamp(version, 5)), _response(2, _stamp(version, 9))
    google_api.forms[FORM] = [before, first, second]

    [outcome] = forms_poll_all()
    assert outcome["started"] == ["ACYDBNj-1", "ACYDBNj-2"]
    [call] = google_api.calls("GET", rf"/v1/forms/{FORM}/responses")
    assert call.query["filter"].startswith("timestamp >= ") and call.query["filter"].endswith("Z")

    # The second poll sees `second` again (same timestamp as the watermark) and a new one.
    third = _response(3, _stamp(version, 12))
    google_api.forms[FORM].append(third)
    [outcome] = forms_poll_all()
    assert outcome["seen"] == 2 and outcome["started"] == ["ACYDBNj-3"]
    assert google_api.calls("GET", rf"/v1/forms/{FORM}/responses")[1].query["filter"] == (
        f"timestamp >= {second['lastSubmittedTime']}"
    )
    assert forms_poll_all()[0]["started"] == []

    runs = WorkflowExecution.objects.filter(workflow=workflow)
    assert sorted(r.trigger_data["response_id"] for r in runs) == ["ACYDBNj-1", "ACYDBNj-2", "ACYDBNj-3"]
    assert WebhookDelivery.objects.filter(workflow=workflow).count() == 3
    run = runs.get(trigger_data__response_id="ACYDBNj-1")
    assert run.trigger_data["answers"] == {"7a1b2c3d": "Person 1", "11aa22bb": ["Docs", "Slides"]}
    assert run.trigger_data["respondent_email"] == "person1@client.example"
    assert run.trigger_data["form_id"] == FORM
    watermark = WorkflowDatastore.objects.get(workflow=workflow, key=WATERMARK_KEY).value[FORM]
    assert watermark == third["lastSubmittedTime"]
    for recorded in google_api.requests:
        assert recorded.headers["authorization"].startswith("Bearer ") and recorded.headers["x-correlation-id"]
    assert google_api.violations == []


@pytest.mark.django_db
def test_the_same_response_in_two_organizations_forms_starts_one_run_each(cast, google_api):
    acme_workflow, version = _forms_workflow(cast, google_connection(cast))
    globex_workflow, _ = _forms_workflow(cast, google_connection(cast, cast.globex), cast.globex)
    google_api.forms[FORM] = [_response(1, _stamp(version, 30))]
    forms_poll_all()
    forms_poll_all()
    assert WorkflowExecution.objects.filter(workflow=acme_workflow).count() == 1
    assert WorkflowExecution.objects.filter(workflow=globex_workflow).count() == 1
    assert set(WorkflowExecution.objects.values_list("organization_id", flat=True)) == {cast.acme.pk, cast.globex.pk}


@pytest.mark.django_db
def test_a_failing_form_does_not_stop_the_others_and_moves_no_watermark(cast, google_api):
    from docg.providers.google.tests.fake import ERRORS

    broken, _ = _forms_workflow(cast, google_connection(cast))
    working, version = _forms_workflow(cast, google_connection(cast))
    google_api.forms[FORM] = [_response(1, _stamp(version, 30))]
    google_api.fail_next("/responses", 429, ERRORS[429], {"Retry-After": "30"})
    outcomes = {o["workflow_id"]: o for o in forms_poll_all()}
    assert outcomes[str(broken.pk)]["error"] == "rate_limit" and outcomes[str(broken.pk)]["transient"] is True
    assert outcomes[str(working.pk)]["started"] == ["ACYDBNj-1"]
    assert not WorkflowDatastore.objects.filter(workflow=broken, key=WATERMARK_KEY).exists()
    # The next poll catches up.
    assert {o["workflow_id"]: o for o in forms_poll_all()}[str(broken.pk)]["started"] == ["ACYDBNj-1"]


@pytest.mark.django_db
def test_a_workflow_without_an_active_google_connection_is_skipped(cast, google_api):
    connection = google_connection(cast)
    _, version = _forms_workflow(cast, connection)
    connection.status = "expired"
    connection.save(update_fields=["status"])
    google_api.forms[FORM] = [_response(1, _stamp(version, 30))]
    [outcome] = forms_poll_all()
    assert outcome["error"] == "connection.inactive"
    assert google_api.requests == [] and not WorkflowExecution.objects.exists()


@pytest.mark.django_db
def test_the_command_polls_once(cast, google_api, capsys):
    _, version = _forms_workflow(cast, google_connection(cast))
    google_api.forms[FORM] = [_response(1, _stamp(version, 30))]
    call_command("poll_google_forms")
    assert "1 run(s) started" in capsys.readouterr().out
    assert WorkflowExecution.objects.count() == 1


def test_only_one_worker_enqueues_the_poll_per_interval(settings, monkeypatch):
    sent = []
    monkeypatch.setattr("docg.providers.google.actors.poll_google_forms.send", lambda: sent.append(1))
    settings.GOOGLE_FORMS_POLL_SECONDS = 60
    cache.delete(schedule.CLAIM_KEY)
    assert schedule.poll_tick() is True
    assert schedule.poll_tick() is False  # another worker's tick in the same interval
    assert sent == [1]
    cache.delete(schedule.CLAIM_KEY)


def test_google_times_keep_their_order_at_any_precision():
    assert parse_time("2026-03-01T10:00:00Z") < parse_time("2026-03-01T10:00:00.5Z")
    assert parse_time("2026-03-01T10:00:00.123456789Z").microsecond == 123456
    assert parse_time("yesterday") is None
