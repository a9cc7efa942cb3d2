"""Billing endpoint: GET /billing (plan, usage, limit); the base view of every billing endpoint.

Every member may read the summary (a run refused for the plan's limit sends
them here); only owners and admins open Stripe sessions (POST /billing/checkout
and /billing/portal, in docg/providers/stripe/billing_views.py).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from docg.orgs import tenancy
from docg.orgs.billing import billing_summary


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


# The base of every billing endpoint: any member of the request's organization; with
# `manager_only`, its owners and admins. (A comment: a docstring would become each operation's description.)
class BillingView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    manager_only = False

    def check_permissions(self, request):
        super().check_permissions(request)
        membership = tenancy.request_bind(request, tenancy.membership_for_request(request))
        if self.manager_only and not tenancy.can_manage(membership):
            raise PermissionDenied("Only the organization's owners and admins manage billing.")


class BillingSummaryView(BillingView):
    @extend_schema(responses={200: SummaryOutput})
    def get(self, request):
        return Response(SummaryOutput(billing_summary(organization=request.organization)).data)
