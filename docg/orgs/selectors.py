from django.db.models import QuerySet

from docg.orgs.models import Membership, Organization, User


def memberships_of(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization")


def organizations_of(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user)
