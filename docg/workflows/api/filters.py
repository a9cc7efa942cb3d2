import django_filters

from docg.workflows.choices import WorkflowStatus
from docg.workflows.models import Workflow


class WorkflowFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WorkflowStatus.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Workflow
        fields = ["status", "name"]
