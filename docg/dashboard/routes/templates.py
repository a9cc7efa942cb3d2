"""Dashboard routes: templates."""

from django.urls import path

from docg.dashboard.views import syntax, templates

urlpatterns: list = [
    path("templates/", templates.templates, name="templates"),
    path("templates/syntax/", syntax.template_syntax, name="template-syntax"),
    path("templates/<uuid:pk>/", templates.template_detail, name="template"),
    path("templates/<uuid:pk>/versions/", templates.template_add_version, name="template-add-version"),
    path("templates/<uuid:pk>/delete/", templates.template_delete, name="template-delete"),
]
