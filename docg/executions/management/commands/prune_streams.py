from django.core.management.base import BaseCommand

from docg.common.management.options import whole_number
from docg.executions.pruning import streams_prune


class Command(BaseCommand):
    help = "Remove event streams of executions finished longer than REDIS_STREAM_TTL ago (safe at any time)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=whole_number(0),
            default=None,
            metavar="SECONDS",
            help="Remove the streams of runs finished at least this many seconds ago (default: REDIS_STREAM_TTL).",
        )

    def handle(self, *args, older_than=None, **options):
        removed = streams_prune(older_than_seconds=older_than)
        for reason, keys in removed.items():
            self.stdout.write(f"{reason}: {len(keys)} stream(s) removed")
            for key in keys:
                self.stdout.write(f"  {key}")
