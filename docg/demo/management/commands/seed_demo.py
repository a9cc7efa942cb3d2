import time
from collections import Counter

from django.core.management.base import BaseCommand

from docg.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = (
        "Create the demo login and the 'Demo Co' organization with a contract template, sample workflows "
        "and a few past runs (safe to run again: only what is missing is added)."
    )

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        seed = demo_seed()
        elapsed = time.monotonic() - started
        if seed.created:
            self.stdout.write(f"Demo data: created {', '.join(seed.created)} in {elapsed:.1f} s.")
        else:
            self.stdout.write("Demo data: already seeded, nothing new.")
        for reason in seed.skipped:
            self.stdout.write(self.style.WARNING(f"Demo data: skipped {reason}"))
        workflows = ", ".join(f"{w.name} ({w.status})" for w in seed.workflows.values())
        runs = ", ".join(f"{n} {status}" for status, n in sorted(Counter(r.status for r in seed.runs).items()))
        self.stdout.write(f"Organization: {seed.organization.name}; template: {seed.template.name}.")
        self.stdout.write(f"Workflows: {workflows}. Past runs: {runs or 'none'}.")
        self.stdout.write(f"Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
