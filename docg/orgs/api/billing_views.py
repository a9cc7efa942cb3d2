"""Billing endpoints: GET /billing (plan, usage, limit), POST /billing/checkout and /billing/portal → {url}.

Every member may read the summary (a run refused for the plan's limit sends
them here); only owners and admins open Stripe sessions.
"""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from docg.orgs import tenancy
from docg.orgs.billing import billing_checkout_start, billing_portal_link, billing_summary
from docg.orgs.choices import Plan


class CheckoutInput(serializers.Serializer):
    plan = serializers.ChoiceField(choices=[Plan.PRO.value, Plan.BUSINESS.value])


UrlOutput = inline_serializer("BillingSessionUrl", {"url": serializers.URLField()})


class UsageOutput(serializers.Serializer):
    monthly_executions = serializers.IntegerField()
    limit = serializers.IntegerField(allow_null=True)
    remaining = serializers.IntegerField(allow_null=True)
    period_start = serializers.DateTimeField()
    resets_at = serializers.DateTimeField()


class PlanOutput(serializers.Serializer):
    plan = serializers.CharField()
    label = serializers.CharField()
    monthly_executions = serializers.IntegerField(allow_null=True)
    purchasable = serializers.BooleanField()


class SummaryOutput(serializers.Serializer):
    plan = serializers.CharField()
    plan_label = serializers.CharField()
    subscription_status = serializers.CharField()
    current_period_end = serializers.DateTimeField(allow_null=True)
    has_customer = serializers.BooleanField()
    usage = UsageOutput()
    plans = PlanOutput(many=True)


class _BillingView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    manager_only = False

    def check_permissions(self, request):
        super().check_permissions(request)
        membership = tenancy.request_bind(request, tenancy.membership_for_request(request))
        if self.manager_only and not tenancy.can_manage(membership):
            raise PermissionDenied("Only the organization's owners and admins manage billing.")


class BillingSummaryView(_BillingView):
    @extend_schema(responses={200: SummaryOutput})
    def get(self, request):
        return Response(SummaryOutput(billing_summary(organization=request.organization)).data)


class BillingCheckoutView(_BillingView):
    manager_only = True

    @extend_schema(request=CheckoutInput, responses={200: UrlOutput})
    def post(self, request):
        data = CheckoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        url = billing_checkout_start(organization=request.organization, by=request.user, **data.validated_data)
        return Response({"url": url})


class BillingPortalView(_BillingView):
    manager_only = True

    @extend_schema(request=None, responses={200: UrlOutput})
    def post(self, request):
        return Response({"url": billing_portal_link(organization=request.organization, by=request.user)})
