"""Two owners removing each other at the same moment: one wins, the organization keeps an owner, nobody deadlocks."""

import threading

import pytest
from django.db import connection

from docg.common.errors import DocgError
from docg.orgs.choices import Role
from docg.orgs.members import member_remove
from docg.orgs.models import Membership

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_owners_removing_each_other_leave_one_owner(cast):
    Membership.objects.filter(user=cast.bob).update(role=Role.OWNER)
    alice = Membership.objects.get(organization=cast.acme, user=cast.alice)
    bob = Membership.objects.get(organization=cast.acme, user=cast.bob)
    barrier = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def remove(target, by):
        try:
            barrier.wait()
            member_remove(membership=target, by=by)
            outcomes.append("removed")
        except DocgError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=remove, args=(bob, alice)), threading.Thread(target=remove, args=(alice, bob))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # The second waits for the first, then finds itself removed (or, had it stayed, the last owner).
    assert len(outcomes) == 2 and outcomes.count("removed") == 1
    assert set(outcomes) - {"removed"} <= {"forbidden", "last_owner"}
    assert Membership.objects.filter(organization=cast.acme, role=Role.OWNER).count() == 1
