"""Websocket routes; the execution consumer arrives with the realtime work."""

websocket_urlpatterns: list = []
