"""`manage.py template_syntax`: write the template syntax reference to docs/TEMPLATE_SYNTAX.md (`--stdout` prints it)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from docg.documents.rendering.syntax import DOC_PATH, markdown


class Command(BaseCommand):
    help = "Write the template syntax reference (every tag, filter and function) to docs/TEMPLATE_SYNTAX.md."

    def add_arguments(self, parser):
        parser.add_argument("--stdout", action="store_true", help="Print it instead of writing the file.")

    def handle(self, *args, stdout=False, **options):
        text = markdown()
        if stdout:
            self.stdout.write(text, ending="")
            return
        path = Path(settings.BASE_DIR) / DOC_PATH
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {path}")
