from django.core.management.base import BaseCommand

from docg.orgs.demo import DEMO_EMAIL, DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Create the demo login, the 'Demo Co' organization and a sample workflow (safe to run again)."

    def handle(self, *args, **options) -> None:
        seed = demo_seed()
        if seed.created:
            self.stdout.write(f"Demo data: created {', '.join(seed.created)}.")
        else:
            self.stdout.write("Demo data: already seeded, nothing new.")
        self.stdout.write(f"Organization: {seed.organization.name}; workflow: {seed.workflow.name}.")
        self.stdout.write(f"Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
