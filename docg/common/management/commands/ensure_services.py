from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from docg.common.services_check import ServiceError, ensure_services


class Command(BaseCommand):
    help = "Check that the configured PostgreSQL, Redis and RabbitMQ answer; start local ones that are down."

    # The checks would touch the database, which may be the very thing that is down.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--timeout", type=float, default=30.0, help="Seconds to wait for a started service.")

    def handle(self, *args, **options) -> None:
        try:
            lines = ensure_services(
                databases=settings.DATABASES,
                redis_url=settings.REDIS_URL,
                broker_url=settings.BROKER_URL,
                deadline_seconds=options["timeout"],
            )
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
        for line in lines:
            self.stdout.write(line)
