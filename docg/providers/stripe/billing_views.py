"""POST /billing/checkout and /billing/portal → {url}: Stripe sessions, opened by owners and admins only."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from docg.orgs.api.billing_views import BillingView
from docg.orgs.choices import Plan
from docg.providers.stripe.billing import billing_checkout_start, billing_portal_link


class CheckoutInput(serializers.Serializer):
    plan = serializers.ChoiceField(choices=[Plan.PRO.value, Plan.BUSINESS.value])


UrlOutput = inline_serializer("BillingSessionUrl", {"url": serializers.URLField()})


class BillingCheckoutView(BillingView):
    manager_only = True

    @extend_schema(request=CheckoutInput, responses={200: UrlOutput})
    def post(self, request):
        data = CheckoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        url = billing_checkout_start(organization=request.organization, by=request.user, **data.validated_data)
        return Response({"url": url})


class BillingPortalView(BillingView):
    manager_only = True

    @extend_schema(request=None, responses={200: UrlOutput})
    def post(self, request):
        return Response({"url": billing_portal_link(organization=request.organization, by=request.user)})
