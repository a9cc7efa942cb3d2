from django.urls import path

from docg.common.api.routers import Router
from docg.executions.api.bulk import BulkOperationViewSet, ExecutionBulkViewSet
from docg.executions.api.views import ApprovalViewSet, ExecutionViewSet

router = Router()
router.register("executions", ExecutionViewSet, basename="execution")
router.register("approvals", ApprovalViewSet, basename="approval")
router.register("bulk-operations", BulkOperationViewSet, basename="bulk-operation")
urlpatterns = [
    # Before the router's `executions/{id}`.
    path("executions/bulk", ExecutionBulkViewSet.as_view({"post": "create"}), name="execution-bulk"),
    *router.urls,
]
