from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from docg.common.api import errors
from docg.providers.webhook.views import catch_hook

api_v1 = [
    path("auth/", include("docg.orgs.api.auth_urls")),
    path("", include("docg.orgs.api.urls")),
    path("", include("docg.orgs.api.billing_urls")),
    path("", include("docg.providers.stripe.billing_urls")),
    path("", include("docg.workflows.api.urls")),
    path("", include("docg.connectors.api.urls")),
    path("", include("docg.documents.api.urls")),
    path("", include("docg.documents.api.download_urls")),
    path("", include("docg.executions.api.urls")),
    path("", include("docg.executions.stream_urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("hooks/zapsign/", include("docg.providers.zapsign.urls")),
    path("hooks/clicksign/", include("docg.providers.clicksign.urls")),
    path("hooks/hubspot/", include("docg.providers.hubspot.urls")),
    path("hooks/stripe/", include("docg.providers.stripe.urls")),
    path("oauth/", include("docg.dashboard.routes.oauth")),
    path("hooks/<uuid:workflow_id>/<str:secret>", catch_hook, name="webhook-catch"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include("docg.dashboard.urls")),
]

handler404 = errors.handler404
handler500 = errors.handler500
handler400 = errors.handler400
handler403 = errors.handler403
