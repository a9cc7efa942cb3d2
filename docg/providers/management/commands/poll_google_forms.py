from django.core.management.base import BaseCommand

from docg.providers.google.polling import forms_poll_all


class Command(BaseCommand):
    help = (
        "Poll the Google Forms of every active google_forms.new_response workflow once; start a run per new response."
    )

    def handle(self, *args, **options):
        outcomes = forms_poll_all()
        for outcome in outcomes:
            if "error" in outcome:
                self.stdout.write(f"  workflow {outcome['workflow_id']}: failed ({outcome['error']})")
            else:
                self.stdout.write(
                    f"  workflow {outcome['workflow_id']}: {outcome['seen']} response(s), "
                    f"{len(outcome['started'])} run(s) started"
                )
        self.stdout.write(f"Polled {len(outcomes)} workflow(s).")
