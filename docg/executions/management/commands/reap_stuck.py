from django.core.management.base import BaseCommand

from docg.executions.reaper import reap_stuck


class Command(BaseCommand):
    help = "Re-enqueue pending or running steps whose lease has expired (a worker died mid-step)."

    def handle(self, *args, **options):
        resent = reap_stuck()
        self.stdout.write(f"Re-enqueued {len(resent)} step(s).")
        for step_id in resent:
            self.stdout.write(f"  {step_id}")
