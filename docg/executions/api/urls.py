from docg.common.api.routers import Router
from docg.executions.api.signatures import SignatureRequestViewSet
from docg.executions.api.views import ApprovalViewSet, ExecutionViewSet
from docg.executions.api.workflow_views import WorkflowRunViewSet

router = Router()
router.register("executions", ExecutionViewSet, basename="execution")
router.register("approvals", ApprovalViewSet, basename="approval")
router.register("signature-requests", SignatureRequestViewSet, basename="signature-request")
# Detail actions only (no list or detail route of its own): /workflows/{id}/executions, /runs, /preflight.
router.register("workflows", WorkflowRunViewSet, basename="workflow")
urlpatterns = router.urls
