import pytest

from docg.audit.models import AuditEvent
from docg.orgs.models import Organization


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", [1, 2])
def test_transactional_tests_can_write_audit_rows_and_start_clean(cast, run):
    # Each run starts from an empty database: the flush between them cleared the audit table too.
    assert Organization.objects.count() == 2
    assert AuditEvent.objects.count() == 2
