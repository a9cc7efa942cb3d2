"""Dashboard routes: signatures (the envelopes still waiting, reminders)."""

from django.urls import path

from docg.dashboard.views import signatures

urlpatterns: list = [
    path("signatures/", signatures.signatures, name="signatures"),
    path("signatures/<uuid:pk>/remind/", signatures.signature_remind, name="signature-remind"),
]
