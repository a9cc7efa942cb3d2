from docg.common.api.routers import Router
from docg.executions.api.views import ApprovalViewSet, ExecutionViewSet

router = Router()
router.register("executions", ExecutionViewSet, basename="execution")
router.register("approvals", ApprovalViewSet, basename="approval")
urlpatterns = router.urls
