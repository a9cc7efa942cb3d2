"""`manage.py template_syntax`: write the template syntax reference to docs/TEMPLATE_SYNTAX.md."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from docg.documents.rendering.syntax import DOC_PATH, markdown


class Command(BaseCommand):
    help = "Write the template syntax reference (every tag, filter and function) to docs/TEMPLATE_SYNTAX.md."

    def add_arguments(self, parser):
        parser.add_argument("--print", action="store_true", dest="print_only", help="Print it; write no file.")

    def handle(self, *args, print_only=False, **options):
        text = markdown()
        if print_only:
            self.stdout.write(text, ending="")
            return
        path = Path(settings.BASE_DIR) / DOC_PATH
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {path}")
