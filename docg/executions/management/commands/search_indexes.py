from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from docg.executions.search_indexes import ADVICE, trigram_indexes_create, trigram_indexes_missing


class Command(BaseCommand):
    help = (
        "Create run search's trigram indexes (PostgreSQL, pg_trgm) if they are missing, without blocking writes. "
        "Run it once after a superuser has run CREATE EXTENSION pg_trgm."
    )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("Not PostgreSQL: run search is not indexed here, nothing to do.")
            return
        missing = trigram_indexes_missing(connection)
        if not missing:
            self.stdout.write("Run search's trigram indexes are all present.")
            return
        if not trigram_indexes_create(connection, concurrently=True):
            raise CommandError(f"The pg_trgm extension is not available in this database. {ADVICE}")
        self.stdout.write(f"Created: {', '.join(missing)}")
