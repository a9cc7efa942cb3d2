from django.core.management.base import BaseCommand

from docg.common.setup_checks import FAIL, format_table, run_checks


class Command(BaseCommand):
    help = "Check the database, migrations, Redis, streams, storage, LibreOffice and URL names; exit 1 on a failure."

    # Checks that need the database are ours to report, not Django's to crash on.
    requires_system_checks: list[str] = []

    def handle(self, *args, **options) -> None:
        results = run_checks()
        self.stdout.write(format_table(results))
        failed = [r for r in results if r.status == FAIL]
        if failed:
            self.stderr.write(f"{len(failed)} check(s) failed.")
            raise SystemExit(1)
        self.stdout.write("All checks passed.")
