from django.urls import path

from docg.common.api.routers import Router
from docg.executions.api.bulk import BulkOperationViewSet, ExecutionBulkViewSet
from docg.executions.api.retention import RetentionPolicyViewSet
from docg.executions.api.search import ExecutionExportViewSet, ExecutionSearchViewSet
from docg.executions.api.signatures import SignatureRequestViewSet
from docg.executions.api.subscriptions import EventDeliveryViewSet, EventSubscriptionViewSet
from docg.executions.api.views import ApprovalViewSet, ExecutionViewSet
from docg.executions.api.workflow_views import WorkflowRunViewSet

router = Router()
router.register("executions", ExecutionViewSet, basename="execution")
router.register("approvals", ApprovalViewSet, basename="approval")
router.register("signature-requests", SignatureRequestViewSet, basename="signature-request")
# Detail actions only (no list or detail route of its own): /workflows/{id}/executions, /runs, /preflight.
router.register("workflows", WorkflowRunViewSet, basename="workflow")
router.register("bulk-operations", BulkOperationViewSet, basename="bulk-operation")
router.register("event-subscriptions", EventSubscriptionViewSet, basename="event-subscription")
router.register("event-deliveries", EventDeliveryViewSet, basename="event-delivery")
urlpatterns = [
    # Before the router's `executions/{id}`.
    path("executions/bulk", ExecutionBulkViewSet.as_view({"post": "create"}), name="execution-bulk"),
    path("executions/search", ExecutionSearchViewSet.as_view({"get": "list"}), name="execution-search"),
    path("executions/export.csv", ExecutionExportViewSet.as_view({"get": "list"}), name="execution-export"),
    path(
        "retention-policy",
        RetentionPolicyViewSet.as_view({"get": "current", "put": "change"}),
        name="retention-policy",
    ),
    *router.urls,
]
