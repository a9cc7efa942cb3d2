import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from docg.audit.models import AuditEvent
from docg.audit.services import audit_seal_all, audit_unsealed_count, audit_verify


class Command(BaseCommand):
    help = (
        "Seal rows not chained yet, then recompute the audit hash chains; "
        "exit 1 naming the first altered, inserted or missing row."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--org", metavar="ORG_UUID", help="Verify only this organization's chain.")

    def handle(self, *args: Any, org: str | None, **options: Any) -> None:
        organization_id = None
        if org is not None:
            try:
                organization_id = uuid.UUID(org)
            except ValueError:
                raise CommandError(f"--org must be an organization UUID, got {org!r}.")
            # The audit app knows organizations only through its foreign key.
            organizations = AuditEvent._meta.get_field("organization").related_model._default_manager
            if not organizations.filter(pk=organization_id).exists():
                raise CommandError(f"No organization with id {organization_id}.")
        # A writer that rolled back while holding a chain lock can leave committed rows unsealed.
        sealed = audit_seal_all(organization_id=organization_id)
        if sealed:
            self.stdout.write(f"{sealed} unsealed row(s) sealed first.")
        checked, broken = audit_verify(organization_id=organization_id)
        if broken is not None:
            self.stdout.write(f"{checked} row(s) checked before the break.")
            raise CommandError(
                "Audit chain broken: "
                f"organization {broken.organization_id}, row {broken.event_id}, sequence {broken.sequence}: "
                f"{broken.reason}"
            )
        unsealed = audit_unsealed_count(organization_id=organization_id)
        if unsealed:
            # Only rows committed after the seal above: the next run verifies them.
            self.stdout.write(f"{unsealed} row(s) committed meanwhile, not sealed yet.")
        self.stdout.write(self.style.SUCCESS(f"OK: {checked} rows verified"))
