"""Dashboard routes: documents."""

from django.urls import path

from docg.dashboard.views import documents

urlpatterns: list = [
    path("documents/", documents.documents, name="documents"),
    path("documents/<uuid:pk>/download/", documents.document_download, name="document-download"),
    path("documents/<uuid:pk>/preview/", documents.document_preview, name="document-preview"),
]
