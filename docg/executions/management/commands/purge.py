import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from docg.executions.retention import retention_purge


class Command(BaseCommand):
    help = "Delete ended runs and generated documents past their organization's retention; --dry-run only counts."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Show what would go, delete nothing.")
        parser.add_argument("--org", metavar="ORG_UUID", help="Only this organization.")
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args: Any, dry_run: bool, org: str | None, batch_size: int | None, **options: Any) -> None:
        organization = None
        if org is not None:
            try:
                organization = uuid.UUID(org)
            except ValueError:
                raise CommandError(f"--org must be an organization UUID, got {org!r}.")
        report = retention_purge(organization=organization, dry_run=dry_run, batch_size=batch_size)
        verb = "Would delete" if dry_run else "Deleted"
        for org_id, counts in sorted(report.organizations.items()):
            self.stdout.write(f"{org_id}: {counts['runs']} run(s), {counts['documents']} document(s)")
        self.stdout.write(
            f"{verb} {report.runs} run(s) with {report.steps} step(s) and {report.logs} log line(s), "
            f"and {report.documents} document(s)."
        )
        if not dry_run:
            self.stdout.write(
                f"{report.batches} batch(es); the longest held its locks {report.longest_batch_seconds:.3f} s."
            )
