"""Outgoing event subscriptions API (issue 15): `/event-subscriptions` and `/event-deliveries`."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from docg.common.api.serializers import StrictInput
from docg.executions import subscriptions
from docg.executions.volume_models import DeliveryAttempt, DeliveryStatus, EventDelivery, EventSubscription
from docg.orgs.api.base import TenantViewSet
from docg.orgs.choices import MANAGER_ROLES


class SubscriptionInput(StrictInput):
    url = serializers.URLField(max_length=1000)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=subscriptions.EVENT_TYPES), min_length=1, max_length=50
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class SubscriptionChangeInput(StrictInput):
    url = serializers.URLField(max_length=1000, required=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=subscriptions.EVENT_TYPES), min_length=1, max_length=50, required=False
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_active = serializers.BooleanField(required=False)


class SubscriptionOutput(serializers.ModelSerializer):
    class Meta:
        model = EventSubscription
        fields = [
            "id",
            "url",
            "event_types",
            "description",
            "is_active",
            "failing_since",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SubscriptionCreatedOutput(SubscriptionOutput):
    secret = serializers.CharField(read_only=True, help_text="Shown once: verify the X-Docg-Signature header with it.")

    class Meta(SubscriptionOutput.Meta):
        fields = [*SubscriptionOutput.Meta.fields, "secret"]
        read_only_fields = fields


class AttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "status_code", "latency_ms", "response_excerpt", "error", "created_at"]
        read_only_fields = fields


class DeliveryOutput(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="pending, delivered or failed.")
    attempt_log = AttemptOutput(source="attempt_rows", many=True, read_only=True)

    class Meta:
        model = EventDelivery
        fields = [
            "id",
            "subscription",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_status_code",
            "body",
            "attempt_log",
            "created_at",
        ]
        read_only_fields = fields


class DeliveryFilter(django_filters.FilterSet):
    subscription = django_filters.UUIDFilter(field_name="subscription_id")
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = EventDelivery
        fields = ["subscription", "status"]


class EventSubscriptionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantViewSet
):
    base_queryset = EventSubscription.objects.all()
    serializer_class = SubscriptionOutput
    # A subscription sends the organization's data out: owners and admins only.
    write_roles = MANAGER_ROLES

    @extend_schema(request=SubscriptionInput, responses={201: SubscriptionCreatedOutput})
    def create(self, request):
        data = SubscriptionInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = subscriptions.subscription_create(
            organization=request.organization, by=request.user, **data.validated_data
        )
        return Response(SubscriptionCreatedOutput(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SubscriptionChangeInput, responses=SubscriptionOutput)
    def partial_update(self, request, pk=None):
        subscription = self.get_object()
        data = SubscriptionChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = subscriptions.subscription_update(
            subscription=subscription, by=request.user, **data.validated_data
        )
        return Response(SubscriptionOutput(subscription).data)

    def perform_destroy(self, instance):
        subscriptions.subscription_delete(subscription=instance, by=self.request.user)


class EventDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    base_queryset = EventDelivery.objects.prefetch_related("attempt_rows")
    serializer_class = DeliveryOutput
    filterset_class = DeliveryFilter
    write_roles = MANAGER_ROLES

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(request=None, responses=DeliveryOutput)
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        delivery = subscriptions.delivery_resend(delivery=self.get_object(), by=request.user)
        return Response(DeliveryOutput(self.base_queryset.get(pk=delivery.pk)).data)
