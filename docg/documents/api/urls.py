from docg.common.api.routers import Router
from docg.documents.api.views import DocumentViewSet, TemplateViewSet

router = Router()
router.register("templates", TemplateViewSet, basename="template")
router.register("documents", DocumentViewSet, basename="document")
urlpatterns = router.urls
