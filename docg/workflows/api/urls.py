from docg.common.api.routers import Router
from docg.workflows.api.views import WorkflowViewSet

router = Router()
router.register("workflows", WorkflowViewSet, basename="workflow")
urlpatterns = router.urls
