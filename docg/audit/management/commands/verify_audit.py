import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from docg.audit.services import audit_verify
from docg.orgs.models import Organization


class Command(BaseCommand):
    help = "Recompute the audit hash chains; exit 1 naming the first altered, inserted or missing row."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--org", metavar="ORG_UUID", help="Verify only this organization's chain.")

    def handle(self, *args: Any, org: str | None, **options: Any) -> None:
        organization_id = None
        if org is not None:
            try:
                organization_id = uuid.UUID(org)
            except ValueError:
                raise CommandError(f"--org must be an organization UUID, got {org!r}.")
            if not Organization.objects.filter(pk=organization_id).exists():
                raise CommandError(f"No organization with id {organization_id}.")
        checked, broken = audit_verify(organization_id=organization_id)
        if broken is not None:
            self.stdout.write(f"{checked} row(s) checked before the break.")
            raise CommandError(
                "Audit chain broken: "
                f"organization {broken.organization_id}, row {broken.event_id}, sequence {broken.sequence}: "
                f"{broken.reason}"
            )
        self.stdout.write(self.style.SUCCESS(f"OK: {checked} rows verified"))
