"""The project's URLs plus the ZapSign webhook, as the lead will include it in config/urls.py."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("hooks/zapsign/", include("docg.providers.zapsign.urls")),
    *project_urlpatterns,
]
