from django.urls import path

from docg.executions.consumers import ExecutionConsumer

websocket_urlpatterns = [
    path("ws/executions/<uuid:pk>/", ExecutionConsumer.as_asgi()),
]
