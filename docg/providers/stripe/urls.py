"""Provider callbacks for stripe: mounted at /hooks/stripe/."""

from django.urls import path

from docg.providers.stripe.views import stripe_webhook

urlpatterns = [path("", stripe_webhook, name="stripe-webhook")]
