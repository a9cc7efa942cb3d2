from django.conf import settings
from rest_framework import serializers

from docg.common.api.fields import JsonObjectField, TenantPrimaryKeyRelatedField
from docg.common.api.serializers import StrictInput
from docg.connectors.models import DataSourceConnection
from docg.workflows.choices import NodeKind
from docg.workflows.models import Workflow, WorkflowVersion
from docg.workflows.services import node_to_dict

_KEY = {"max_length": 64}


class BranchInput(StrictInput):
    when = serializers.CharField(max_length=2000)
    next = serializers.SlugField(**_KEY)


class NodeInput(StrictInput):
    key = serializers.SlugField(**_KEY)
    kind = serializers.ChoiceField(choices=NodeKind.choices)
    app = serializers.SlugField(**_KEY)
    operation = serializers.SlugField(**_KEY)
    label = serializers.CharField(max_length=200, required=False, allow_blank=True)
    # JSON that jsonb can store (no NUL, NaN or Infinity), else the INSERT fails with a 500.
    parameters = JsonObjectField(required=False)
    position = JsonObjectField(required=False, allow_null=True)
    next = serializers.SlugField(required=False, allow_blank=True, **_KEY)
    branches = BranchInput(many=True, required=False)
    connection = TenantPrimaryKeyRelatedField(DataSourceConnection, required=False, allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        # `else` is a Python keyword, so it cannot be declared as an attribute.
        fields["else"] = serializers.SlugField(required=False, allow_blank=True, **_KEY)
        return fields


class WorkflowInput(StrictInput):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    nodes = NodeInput(many=True, max_length=200)


class WorkflowOutput(serializers.ModelSerializer):
    nodes = serializers.SerializerMethodField()
    active_version = serializers.SerializerMethodField()
    webhook_url = serializers.SerializerMethodField()

    class Meta:
        model = Workflow
        fields = [
            "id",
            "name",
            "description",
            "status",
            "active_version",
            "nodes",
            "webhook_url",
            "archived_at",
            "created_at",
            "updated_at",
        ]

    def get_nodes(self, workflow: Workflow) -> list[dict]:
        return [node_to_dict(n) for n in workflow.nodes.all()]

    def get_webhook_url(self, workflow: Workflow) -> str:
        # A capability URL: whoever holds it can start runs, like a webhook URL anywhere.
        return f"{settings.FRONTEND_URL.rstrip('/')}/hooks/{workflow.pk}/{workflow.webhook_secret}"

    def get_active_version(self, workflow: Workflow) -> int | None:
        return workflow.active_version.number if workflow.active_version_id else None


class WorkflowVersionOutput(serializers.ModelSerializer):
    class Meta:
        model = WorkflowVersion
        fields = ["id", "number", "definition", "created_at"]
