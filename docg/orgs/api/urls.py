from docg.common.api.routers import Router
from docg.orgs.api.views import OrganizationViewSet

router = Router()
router.register("organizations", OrganizationViewSet, basename="organization")
urlpatterns = router.urls
