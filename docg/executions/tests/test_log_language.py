"""Run logs are written in the organization's language (PRODUCT: human messages in pt-BR for pt-BR orgs)."""

import pytest

from docg.executions.models import ExecutionLog
from docg.executions.tests.builders import action, active_workflow
from tests.fixtures.cast import api_client_for
from tests.fixtures.engine import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)

VARS = action("vars", "set_variables", parameters={"variables": {"total": "{{ trigger.total }}"}})


def run_logs(cast) -> list[str]:
    workflow = active_workflow(cast, VARS)
    started = api_client_for(cast.alice).post(
        f"/api/v1/workflows/{workflow.pk}/executions", {"trigger_data": {"total": 10}}, format="json"
    )
    execution_id = started.json()["id"]
    wait_for_status(execution_id, "completed")
    return list(ExecutionLog.objects.filter(execution_id=execution_id).order_by("timestamp").values_list(
        "message_human", flat=True
    ))  # fmt: skip


def test_a_portuguese_organization_reads_its_run_logs_in_portuguese(cast, worker):
    cast.acme.language = "pt-br"
    cast.acme.save(update_fields=["language"])
    logs = run_logs(cast)
    assert "Execução na fila." in logs, logs
    assert "Etapa 'vars' concluída." in logs, logs
    assert "Execução concluída." in logs, logs
    assert not any(line in logs for line in ("Run queued.", "Run completed.")), logs


def test_an_english_organization_keeps_english_logs(cast, worker):
    logs = run_logs(cast)
    assert {"Run queued.", "Step 'vars' finished.", "Run completed."} <= set(logs), logs
