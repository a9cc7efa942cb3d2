import django_filters

from docg.workflows.choices import WorkflowStatus
from docg.workflows.models import Workflow


class WorkflowFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WorkflowStatus.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")
    archived = django_filters.BooleanFilter(field_name="archived_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Workflow
        fields = ["status", "name"]
