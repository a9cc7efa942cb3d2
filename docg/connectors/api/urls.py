from docg.common.api.routers import Router
from docg.connectors.api.views import AppViewSet, ConnectionViewSet

router = Router()
router.register("connections", ConnectionViewSet, basename="connection")
router.register("apps", AppViewSet, basename="app")
urlpatterns = router.urls
