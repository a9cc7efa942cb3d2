from django.db.models import QuerySet

from docg.orgs.models import Membership, User


def memberships_of(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization")
