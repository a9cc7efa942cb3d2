from typing import Any

from django.core.management.base import BaseCommand

from docg.common.management.options import whole_number
from docg.common.secrets import BATCH_SIZE, secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the first key of FERNET_KEYS (run before removing an old key)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--batch-size",
            type=whole_number(1),
            default=BATCH_SIZE,
            metavar="ROWS",
            help=f"Rows read and re-encrypted per query (default: {BATCH_SIZE}).",
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        counts = secrets_rotate(batch_size=batch_size)
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count} value(s) rotated")
        self.stdout.write(self.style.SUCCESS(f"OK: {sum(counts.values())} value(s) re-encrypted with the first key."))
