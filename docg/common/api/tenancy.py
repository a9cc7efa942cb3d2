"""Which organization a request acts for, and what the caller may do there."""

import uuid

from rest_framework.request import Request

from docg.common.errors import DocgError
from docg.orgs.models import Membership

ORG_HEADER = "HTTP_X_ORGANIZATION_ID"


def membership_for_request(request: Request) -> Membership:
    """The caller's membership in the organization named by X-Organization-ID (or their only one).

    An organization the caller does not belong to answers 404, exactly like one
    that does not exist, so ids cannot be probed.
    """
    raw = request.META.get(ORG_HEADER, "").strip()
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    if raw:
        try:
            org_id = uuid.UUID(raw)
        except ValueError:
            raise DocgError("invalid_organization_header", "X-Organization-ID must be an organization's UUID.")
        membership = memberships.filter(organization_id=org_id).first()
        if membership is None:
            raise DocgError("organization_not_found", "No such organization.", status_code=404)
        return membership
    found = list(memberships[:2])
    if not found:
        raise DocgError("no_organization", "You are not a member of any organization.", status_code=403)
    if len(found) > 1:
        raise DocgError(
            "organization_required",
            "You belong to several organizations: send X-Organization-ID to choose one.",
        )
    return found[0]
