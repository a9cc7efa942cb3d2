from django.urls import path

from docg.common.api.routers import Router
from docg.orgs.api.api_keys import ApiKeyViewSet
from docg.orgs.api.team import InvitationAcceptView, InvitationViewSet, MemberViewSet
from docg.orgs.api.views import OrganizationViewSet

router = Router()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("members", MemberViewSet, basename="member")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("api-keys", ApiKeyViewSet, basename="api-key")
urlpatterns = [
    # Before the router, whose invitations/{id} would otherwise take "accept" for an id.
    path("invitations/accept", InvitationAcceptView.as_view(), name="invitation-accept"),
    *router.urls,
]
