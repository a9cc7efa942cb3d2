"""Dashboard routes: connections."""

from django.urls import path

from docg.dashboard.views import connections

urlpatterns: list = [
    path("connections/", connections.connections, name="connections"),
    path("connections/new/<slug:provider>/", connections.connection_create, name="connection-create"),
    path("connections/<uuid:pk>/test/", connections.connection_test_view, name="connection-test"),
    path("connections/<uuid:pk>/revoke/", connections.connection_revoke, name="connection-revoke"),
]
