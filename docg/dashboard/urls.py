from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import JavaScriptCatalog, set_language

from docg.dashboard.routes import (
    approvals,
    billing,
    connections,
    documents,
    executions,
    metrics,
    runs,
    signatures,
    team,
    templates,
    volume,
    workflows,
)
from docg.dashboard.views import shell
from docg.dashboard.views.login import ThrottledLoginView

app_name = "dashboard"
urlpatterns = [
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organization/", shell.switch_organization, name="switch-organization"),
    path("language/", set_language, name="set-language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    *workflows.urlpatterns,
    *runs.urlpatterns,
    *executions.urlpatterns,
    *approvals.urlpatterns,
    *signatures.urlpatterns,
    *templates.urlpatterns,
    *documents.urlpatterns,
    *connections.urlpatterns,
    *metrics.urlpatterns,
    *billing.urlpatterns,
    *volume.urlpatterns,
    *team.urlpatterns,
]
