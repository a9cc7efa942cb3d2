from typing import Any

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from docg.audit.models import AuditEvent
from docg.common.api.fields import JsonObjectField
from docg.common.api.serializers import StrictInput
from docg.connectors import registry
from docg.documents.lint import locations_for_clients
from docg.executions import phases
from docg.executions.choices import ExecutionStatus, Phase
from docg.executions.models import ExecutionLog, ExecutionStep, WorkflowApproval, WorkflowExecution

# --- input --------------------------------------------------------------------------


class ExecutionStartInput(StrictInput):
    trigger_data = JsonObjectField(help_text="The trigger's output: what `{{ trigger.* }}` reads.")
    dry_run = serializers.BooleanField(default=False, help_text="Render documents, but send and sign nothing.")
    until_phase = serializers.ChoiceField(
        choices=[(p, Phase(p).label) for p in sorted(phases.STOPPABLE)],
        required=False,
        allow_blank=True,
        default="",
        help_text="Stop the run cleanly after this phase.",
    )


class PreflightInput(StrictInput):
    trigger_data = JsonObjectField()


class ResumeInput(StrictInput):
    approved = serializers.BooleanField(default=True, help_text="False rejects: the run is canceled.")
    changes = JsonObjectField(
        required=False, help_text="Merged into trigger_data before preflight runs again (from needs_review)."
    )


class CancelInput(StrictInput):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class RetryInput(StrictInput):
    trigger_data = JsonObjectField(required=False, help_text="Replaces the parent's trigger_data.")
    from_step = serializers.SlugField(
        required=False,
        allow_blank=True,
        max_length=64,
        default="",
        help_text="A node key: steps before it reuse the parent's recorded outputs.",
    )


class DecideInput(StrictInput):
    approved = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


# --- output shapes of the JSON columns (documentation only: the data passes through) ----


class CurrentStepShape(serializers.Serializer):
    index = serializers.IntegerField()
    label = serializers.CharField()
    node_key = serializers.CharField()
    node_type = serializers.CharField(help_text="app.operation")
    node_type_label = serializers.CharField(
        required=False, help_text="The step type's name in the client's language (Accept-Language)."
    )


class PhaseMetricShape(serializers.Serializer):
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)


class RecommendedActionShape(serializers.Serializer):
    action = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    code = serializers.CharField()
    node_key = serializers.CharField()
    endpoint = serializers.CharField()


class PreflightIssueShape(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=["blocking", "warning"])
    domain = serializers.CharField()
    node_key = serializers.CharField()
    message_human = serializers.CharField()
    details_tech = serializers.JSONField(allow_null=True)
    location = serializers.JSONField(required=False)
    missing = serializers.ListField(child=serializers.CharField(), required=False)


class PreflightReportOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    blocking = PreflightIssueShape(many=True)
    warnings = PreflightIssueShape(many=True)
    groups = serializers.DictField(child=PreflightIssueShape(many=True))
    recommended_actions = RecommendedActionShape(many=True)


def localized_actions(actions: Any) -> Any:
    """Recommended actions with their label and description in the client's language.

    The run's row keeps them in English (docg/executions/errors.py marks them for translation).
    """
    if not isinstance(actions, list):
        return actions
    return [
        {**a, **{k: gettext(a[k]) for k in ("label", "description") if isinstance(a.get(k), str) and a[k]}}
        if isinstance(a, dict)
        else a
        for a in actions
    ]


def localized_report(report: Any) -> Any:
    """A preflight report for clients: actions in their language, template locations counted from 1."""
    if not isinstance(report, dict) or "recommended_actions" not in report:
        return report
    out = {**report, "recommended_actions": localized_actions(report["recommended_actions"])}
    for name in ("blocking", "warnings"):
        out[name] = locations_for_clients(report.get(name))
    if isinstance(report.get("groups"), dict):
        out["groups"] = {domain: locations_for_clients(issues) for domain, issues in report["groups"].items()}
    return out


@extend_schema_field(CurrentStepShape(allow_null=True))
class CurrentStepField(serializers.JSONField):
    def to_representation(self, value):
        value = super().to_representation(value)
        if isinstance(value, dict) and isinstance(value.get("node_type"), str):
            app, _, name = value["node_type"].partition(".")
            found = registry.get_app(app)
            operation = found and (found.actions.get(name) or found.triggers.get(name))
            if operation:
                value = {**value, "node_type_label": str(operation.label)}
        return value


@extend_schema_field(serializers.DictField(child=PhaseMetricShape()))
class PhaseMetricsField(serializers.JSONField):
    pass


@extend_schema_field(RecommendedActionShape(many=True))
class RecommendedActionsField(serializers.JSONField):
    def to_representation(self, value):
        return localized_actions(super().to_representation(value))


@extend_schema_field(PreflightReportOutput(allow_null=True))
class PreflightSummaryField(serializers.JSONField):
    def to_representation(self, value):
        return localized_report(super().to_representation(value))


# --- output ---------------------------------------------------------------------------


class ExecutionSummaryOutput(serializers.ModelSerializer):
    """A run in a list: its state without the bulky JSON (trigger data, preflight report)."""

    workflow_version = serializers.SerializerMethodField()
    current_step = CurrentStepField(read_only=True)
    # A plain string here: the same enum in two components makes drf-spectacular's enum
    # naming collide; ExecutionOutput documents the values.
    status = serializers.CharField(read_only=True, help_text="The run status (see Execution's `status`).")

    class Meta:
        model = WorkflowExecution
        fields = [
            "id",
            "workflow",
            "workflow_version",
            "status",
            "progress",
            "current_step",
            "last_error_code",
            "last_error_human",
            "dry_run",
            "until_phase",
            "parent_execution",
            "correlation_id",
            "started_at",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_workflow_version(self, execution: WorkflowExecution) -> int | None:
        return execution.workflow_version.number if execution.workflow_version_id else None


class ExecutionOutput(ExecutionSummaryOutput):
    """The full run state (PRODUCT.md section 4)."""

    status = serializers.ChoiceField(choices=ExecutionStatus.choices, read_only=True)
    phase_metrics = PhaseMetricsField(read_only=True)
    recommended_actions = RecommendedActionsField(read_only=True)
    preflight_summary = PreflightSummaryField(read_only=True)

    class Meta(ExecutionSummaryOutput.Meta):
        fields = [
            *ExecutionSummaryOutput.Meta.fields,
            "last_error_tech",
            "preflight_summary",
            "delivery_state",
            "signature_state",
            "recommended_actions",
            "phase_metrics",
            "trigger_data",
            "retry_from_step",
            "triggered_by",
        ]
        read_only_fields = fields


class StepOutput(serializers.ModelSerializer):
    class Meta:
        model = ExecutionStep
        fields = [
            "id",
            "node_key",
            "index",
            "attempt",
            "status",
            "data_in",
            "data_out",
            "error_code",
            "error_human",
            "error_tech",
            "started_at",
            "finished_at",
            "duration_ms",
            "created_at",
        ]
        read_only_fields = fields


class LogOutput(serializers.ModelSerializer):
    step_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = ExecutionLog
        fields = ["id", "step_id", "timestamp", "level", "domain", "message_human", "details_tech", "correlation_id"]
        read_only_fields = fields


class AuditOutput(serializers.ModelSerializer):
    metadata = serializers.JSONField(source="event_metadata", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "sequence",
            "timestamp",
            "actor_type",
            "actor_id",
            "action",
            "target_type",
            "target_id",
            "metadata",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class ApprovalOutput(serializers.ModelSerializer):
    workflow = serializers.UUIDField(source="execution.workflow_id", read_only=True)

    class Meta:
        model = WorkflowApproval
        fields = [
            "id",
            "execution",
            "workflow",
            "node_key",
            "status",
            "message",
            "approvers",
            "decided_by",
            "decided_at",
            "comment",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
