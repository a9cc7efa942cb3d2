"""POST /api/v1/executions/{id}/stream-token: a short-lived token for EventSource (no headers there)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from docg.executions.models import WorkflowExecution
from docg.orgs.api.base import TenantViewSet
from docg.orgs.choices import Role
from docg.orgs.tenancy import stream_token_issue


class StreamTokenViewSet(TenantViewSet):
    base_queryset = WorkflowExecution.objects.all()
    # Reading a stream is a read: viewers may do it, though it takes a POST.
    action_roles = {"issue": frozenset(Role)}
    # The POST takes no body: an empty input, so OPTIONS can describe it (it answered 500 without one).
    serializer_class = serializers.Serializer

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "StreamToken",
            {
                "token": serializers.CharField(),
                "expires_in": serializers.IntegerField(),
                "url": serializers.CharField(),
            },
        ),
    )
    def issue(self, request, pk=None):
        from django.conf import settings

        execution = self.get_object()
        token = stream_token_issue(execution=execution, user=request.user)
        return Response(
            {
                "token": token,
                "expires_in": settings.STREAM_TOKEN_TTL_SECONDS,
                "url": f"/api/v1/sse/executions/{execution.pk}/stream?token={token}",
            }
        )
