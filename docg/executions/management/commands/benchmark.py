"""`manage.py benchmark engine --executions N --steps K --workers W [--processes P] [--keep]`."""

from django.core.management.base import BaseCommand, CommandError

from docg.executions.benchmark import EngineBenchmark


class Command(BaseCommand):
    help = (
        "Benchmark the execution engine on the configured database and broker: executions/s, "
        "per-step engine overhead p50/p95/p99 and database queries per step."
    )

    def add_arguments(self, parser):
        parser.add_argument("target", choices=["engine"], help="What to benchmark.")
        parser.add_argument("--executions", type=int, default=500, help="Executions to run under load.")
        parser.add_argument("--steps", type=int, default=5, help="core.set_variables steps per execution.")
        parser.add_argument(
            "--workers", type=int, default=8, help="Worker threads (in this process, or per process with --processes)."
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=0,
            help="Run the load on this many `rundramatiq` processes instead of in-process threads (needs Redis).",
        )
        parser.add_argument(
            "--calibration-runs",
            type=int,
            default=20,
            help="Executions run one at a time in this process for the unloaded timings (the first counts queries).",
        )
        parser.add_argument("--timeout", type=float, default=0, help="Give up waiting after this many seconds.")
        parser.add_argument(
            "--debug", action="store_true", help="Keep settings.DEBUG as configured (by default the run turns it off)."
        )
        parser.add_argument(
            "--keep", action="store_true", help="Keep the benchmark's workflow and executions (for inspection)."
        )

    def handle(
        self, *args, target, executions, steps, workers, processes, calibration_runs, timeout, debug, keep, **options
    ):
        if executions < 1 or steps < 1 or workers < 1 or processes < 0 or calibration_runs < 1:
            raise CommandError("--executions, --steps, --workers and --calibration-runs must be at least 1.")
        benchmark = EngineBenchmark(
            executions=executions,
            steps=steps,
            workers=workers,
            processes=processes,
            keep=keep,
            calibration_runs=calibration_runs,
            timeout=timeout,
            debug=debug,
            write=self.stdout.write,
        )
        try:
            benchmark.run()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
