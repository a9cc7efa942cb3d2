from django.urls import path

from docg.common.api.routers import Router
from docg.documents.api.download import DocumentDownloadViewSet, DocumentFileView

router = Router()
router.register("documents", DocumentDownloadViewSet, basename="document-download")
urlpatterns = [
    *router.urls,
    path("documents/<uuid:pk>/file", DocumentFileView.as_view(), name="document-file"),
]
