"""ai.extract against a fake OpenAI-compatible API on loopback, run by the real engine."""

import pytest

from docg.common.errors import DocgError
from docg.connectors.services import connection_create
from docg.executions.choices import ExecutionStatus, StepStatus
from docg.executions.engine import execution_start
from docg.executions.models import ExecutionStep
from docg.executions.tests.conftest import action, active_workflow
from docg.providers.ai.client import AiClient, retry_after_seconds
from docg.providers.ai.handlers import input_text
from docg.providers.ai.preflight import extract_preflight
from tests.fixtures.ai import API_KEY, NOT_FOUND, RATE_LIMITED, SERVER_ERROR, UNAUTHORIZED
from tests.fixtures.engine import wait_for_status

DONE = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.NEEDS_REVIEW)
SCHEMA = {
    "type": "object",
    "properties": {"customer": {"type": "string"}, "amount": {"type": "number"}},
    "required": ["customer", "amount"],
    "additionalProperties": False,
}
GOOD = {"customer": "Ana Souza", "amount": 1200.5}


@pytest.fixture
def loopback_allowed(settings):
    settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.STEP_RETRY_BASE_SECONDS = 0.05


def _connection(cast, fake, *, credentials=None, config=None):
    return connection_create(
        organization=cast.acme,
        by=cast.alice,
        provider="ai",
        name="OpenAI",
        credentials={"api_key": API_KEY} if credentials is None else credentials,
        config={"base_url": fake.url, "model": "gpt-4o-mini"} if config is None else config,
    )


def _extract(connection, **parameters):
    defaults = {
        "instructions": "Extract the customer and the amount.",
        "input": "{{ trigger.text }}",
        "schema": SCHEMA,
    }
    return action("extract", "extract", app="ai", connection=connection, parameters={**defaults, **parameters})


def _run(cast, *nodes, dry_run=False):
    workflow = active_workflow(cast, *nodes)
    data = {"text": "Contract for Ana Souza, total R$ 1.200,50."}
    execution = execution_start(workflow=workflow, trigger_data=data, by=cast.alice, dry_run=dry_run)
    return wait_for_status(execution.pk, *DONE, timeout=30)


def _steps(execution):
    return list(ExecutionStep.objects.filter(execution=execution, node_key="extract").order_by("attempt"))


# --- through the engine -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_extracts_an_object_that_follows_the_schema(cast, worker, fake_ai, loopback_allowed):
    fake_ai.default = ("success", GOOD)
    done = _run(cast, _extract(_connection(cast, fake_ai)))
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)

    [step] = _steps(done)
    assert step.data_out == GOOD
    [request] = fake_ai.received
    assert request["problems"] == []
    assert request["headers"]["x-correlation-id"] == str(done.correlation_id)
    body = request["json"]
    assert body["model"] == "gpt-4o-mini"
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "docg_extract", "schema": SCHEMA, "strict": True},
    }
    assert body["messages"] == [
        {"role": "system", "content": "Extract the customer and the amount."},
        {"role": "user", "content": "Contract for Ana Souza, total R$ 1.200,50."},
    ]


@pytest.mark.django_db(transaction=True)
def test_the_step_model_overrides_the_connections(cast, worker, fake_ai, loopback_allowed):
    fake_ai.default = ("success", GOOD)
    done = _run(cast, _extract(_connection(cast, fake_ai), model="gpt-4.1"))
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)
    assert fake_ai.received[0]["json"]["model"] == "gpt-4.1"


@pytest.mark.django_db(transaction=True)
def test_a_401_fails_the_step_at_once_and_says_to_check_the_key(cast, worker, fake_ai, loopback_allowed):
    fake_ai.default = (401, UNAUTHORIZED)
    done = _run(cast, _extract(_connection(cast, fake_ai)))
    assert done.status == ExecutionStatus.FAILED
    assert done.last_error_code == "ai.unauthorized"
    assert "check the API key" in done.last_error_human

    [step] = _steps(done)  # permanent: no second attempt
    assert (step.status, step.error_code) == (StepStatus.FAILURE, "ai.unauthorized")
    assert step.error_tech["status"] == 401
    assert step.error_tech["provider_error"]["code"] == "invalid_api_key"
    assert API_KEY not in str(step.error_tech)
    assert len(fake_ai.received) == 1


@pytest.mark.django_db(transaction=True)
def test_a_429_is_retried_and_then_succeeds(cast, worker, fake_ai, loopback_allowed):
    fake_ai.answers.append((429, RATE_LIMITED, {"Retry-After": "1"}))
    fake_ai.default = ("success", GOOD)
    done = _run(cast, _extract(_connection(cast, fake_ai)))
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)

    first, second = _steps(done)
    assert (first.status, first.error_code) == (StepStatus.FAILURE, "rate_limit")
    assert first.error_tech["retry_after"] == "1"
    assert first.error_tech["retry_after_seconds"] == 1.0
    assert (second.status, second.data_out) == (StepStatus.SUCCESS, GOOD)
    assert len(fake_ai.received) == 2
    assert fake_ai.problems == []


@pytest.mark.django_db(transaction=True)
def test_an_answer_that_breaks_the_schema_is_an_invalid_output(cast, worker, fake_ai, loopback_allowed):
    fake_ai.default = ("success", {"customer": "Ana Souza", "amount": "a lot"})
    done = _run(cast, _extract(_connection(cast, fake_ai)))
    assert done.status == ExecutionStatus.FAILED
    assert done.last_error_code == "ai.invalid_output"
    assert "'a lot' is not of type 'number'" in done.last_error_human
    assert "amount" in done.last_error_human
    [step] = _steps(done)  # permanent
    assert step.error_tech["path"] == "amount"


@pytest.mark.django_db(transaction=True)
def test_an_answer_that_is_not_json_is_an_invalid_output(cast, worker, fake_ai, loopback_allowed):
    fake_ai.default = ("raw", "Sure! The customer is Ana.")
    done = _run(cast, _extract(_connection(cast, fake_ai)))
    assert (done.status, done.last_error_code) == (ExecutionStatus.FAILED, "ai.invalid_output")
    assert len(_steps(done)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_calls_nothing(cast, worker, fake_ai, loopback_allowed):
    done = _run(cast, _extract(_connection(cast, fake_ai)), dry_run=True)
    assert done.status == ExecutionStatus.COMPLETED, (done.last_error_code, done.last_error_human)
    [step] = _steps(done)
    assert step.data_out == {"dry_run": True}
    assert fake_ai.received == []


@pytest.mark.django_db(transaction=True)
def test_the_ssrf_guard_refuses_loopback_when_it_is_not_allowed(cast, worker, fake_ai, settings):
    settings.SSRF_ALLOWED_NETWORKS = []
    done = _run(cast, _extract(_connection(cast, fake_ai)))
    assert (done.status, done.last_error_code) == (ExecutionStatus.FAILED, "ai.blocked_address")
    assert "127.0.0.1" in done.last_error_human
    assert fake_ai.received == []


# --- client, preflight and helpers without the engine -------------------------------


def _client(fake, key=API_KEY):
    return AiClient(base_url=fake.url + "/", api_key=key, correlation_id="corr-1")


def _call(client, model="gpt-4o-mini"):
    return client.chat_completion([{"role": "user", "content": "hi"}], SCHEMA, model, 5)


def test_the_client_classifies_errors(fake_ai, settings):
    settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    fake_ai.answers = [
        (403, UNAUTHORIZED),
        (404, NOT_FOUND),
        (500, SERVER_ERROR),
        (503, SERVER_ERROR),
        (429, RATE_LIMITED, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        (429, {"error": {"message": "You exceeded your current quota.", "type": "insufficient_quota"}}),
        (400, {"error": {"message": "Invalid schema for response_format 'docg_extract'."}}),
    ]
    expected = [
        ("ai.unauthorized", False),
        ("ai.not_found", False),
        ("ai.unavailable", True),
        ("ai.unavailable", True),
        ("rate_limit", True),
        ("ai.quota_exceeded", False),
        ("ai.bad_request", False),
    ]
    for code, transient in expected:
        with pytest.raises(DocgError) as caught:
            _call(_client(fake_ai))
        assert (caught.value.code, caught.value.transient) == (code, transient), caught.value.human
    assert fake_ai.problems == []
    assert [r["headers"]["x-correlation-id"] for r in fake_ai.received] == ["corr-1"] * len(expected)


def test_the_fake_refuses_a_wrong_key(fake_ai, settings):
    settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with pytest.raises(DocgError) as caught:
        _call(_client(fake_ai, key="sk-wrong"))
    assert caught.value.code == "ai.bad_request"
    assert "Authorization" in fake_ai.problems[0]


def test_connection_errors_and_timeouts_are_transient(settings):
    from tests.fixtures.processes import free_port

    settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    client = AiClient(base_url=f"http://127.0.0.1:{free_port()}/v1", api_key=API_KEY)
    with pytest.raises(DocgError) as caught:
        _call(client)
    assert (caught.value.code, caught.value.transient) == ("ai.unavailable", True)


def test_a_refusal_or_an_empty_answer_is_permanent(fake_ai, settings):
    settings.SSRF_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    fake_ai.answers = [("refusal", "I can't help with that."), ("raw", None)]
    with pytest.raises(DocgError) as caught:
        _call(_client(fake_ai))
    assert (caught.value.code, caught.value.transient) == ("ai.refused", False)
    assert "I can't help with that." in caught.value.human
    with pytest.raises(DocgError) as caught:
        _call(_client(fake_ai))
    assert (caught.value.code, caught.value.transient) == ("ai.invalid_output", False)


def test_retry_after_reads_seconds_and_dates():
    assert retry_after_seconds("20") == 20.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None


def test_input_is_sent_as_text():
    assert input_text("plain") == "plain"
    assert input_text({"name": "Ana", "total": 3}) == '{\n  "name": "Ana",\n  "total": 3\n}'


@pytest.mark.django_db
def test_preflight_wants_an_ai_connection_with_a_url_and_a_key(cast, fake_ai):
    node = _extract(None)
    [issue] = extract_preflight(node=node, organization=cast.acme, trigger_data={}, language="en")
    assert issue["code"] == "connection.inactive" and "no AI connection" in issue["message_human"]

    keyless = _connection(cast, fake_ai, credentials={})
    node = {**_extract(None), "connection": str(keyless.pk)}
    [issue] = extract_preflight(node=node, organization=cast.acme, trigger_data={}, language="en")
    assert issue["code"] == "connection.inactive" and "api_key" in issue["message_human"]

    mail = connection_create(organization=cast.acme, by=cast.alice, provider="smtp", name="Mail", credentials={})
    node = {**_extract(None), "connection": str(mail.pk)}
    [issue] = extract_preflight(node=node, organization=cast.acme, trigger_data={}, language="pt-br")
    assert "não de IA" in issue["message_human"]

    good = _connection(cast, fake_ai)
    node = {**_extract(None), "connection": str(good.pk)}
    assert extract_preflight(node=node, organization=cast.acme, trigger_data={}, language="en") == []


@pytest.mark.django_db(transaction=True)
def test_a_keyless_connection_stops_the_run_in_preflight(cast, worker, fake_ai, loopback_allowed):
    done = _run(cast, _extract(_connection(cast, fake_ai, credentials={})))
    assert done.status == ExecutionStatus.NEEDS_REVIEW, done.status
    assert any(i["code"] == "connection.inactive" for i in done.preflight_summary["blocking"])
    assert fake_ai.received == []
