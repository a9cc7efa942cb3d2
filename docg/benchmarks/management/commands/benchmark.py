"""`manage.py benchmark engine|sse|render|dashboard …`: measured figures, never asserted in tests.

- engine:    `--executions N --steps K --workers W [--processes P] [--keep]`
- sse:       `--clients C --events E [--rate R]`
- render:    `--docs N --workers W [--pdf]`
- dashboard: `--executions N --requests R [--keep]`
"""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Benchmark the engine, the live event stream, document rendering or the dashboard on this configuration."

    def add_arguments(self, parser):
        parser.add_argument("target", choices=["engine", "sse", "render", "dashboard"], help="What to benchmark.")
        engine = parser.add_argument_group("engine")
        engine.add_argument(
            "--executions", type=int, default=None, help="Executions to run (engine: under load, 500; dashboard: 300)."
        )
        engine.add_argument("--steps", type=int, default=5, help="core.set_variables steps per execution.")
        engine.add_argument(
            "--workers", type=int, default=8, help="Worker threads (engine: per process with --processes; render)."
        )
        engine.add_argument(
            "--processes",
            type=int,
            default=0,
            help="Run the load on this many `rundramatiq` processes instead of in-process threads (needs Redis).",
        )
        engine.add_argument(
            "--calibration-runs",
            type=int,
            default=20,
            help="Executions run one at a time in this process for the unloaded timings (the first counts queries).",
        )
        engine.add_argument("--timeout", type=float, default=0, help="Give up waiting after this many seconds.")
        engine.add_argument(
            "--debug", action="store_true", help="Keep settings.DEBUG as configured (by default the run turns it off)."
        )
        engine.add_argument(
            "--keep", action="store_true", help="Keep the benchmark's workflow and executions (for inspection)."
        )
        sse = parser.add_argument_group("sse")
        sse.add_argument("--clients", type=int, default=1000, help="Concurrent SSE clients on one server process.")
        sse.add_argument("--events", type=int, default=50, help="Events published to the stream they all follow.")
        sse.add_argument("--rate", type=float, default=5, help="Events published per second (0: as fast as possible).")
        render = parser.add_argument_group("render")
        render.add_argument("--docs", type=int, default=50, help="Documents to render per kind.")
        render.add_argument("--pdf", action="store_true", help="Also convert to PDF through LibreOffice.")
        dashboard = parser.add_argument_group("dashboard (also --executions, --workers, --timeout, --keep)")
        dashboard.add_argument("--requests", type=int, default=50, help="Requests per dashboard page.")

    def handle(self, *args, target, **options):
        if target == "sse":
            return self._sse(**options)
        if target == "render":
            return self._render(**options)
        if target == "dashboard":
            return self._dashboard(**options)
        return self._engine(**options)

    def _engine(self, *, executions, steps, workers, processes, calibration_runs, timeout, debug, keep, **_):
        from docg.benchmarks.engine import EngineBenchmark

        executions = 500 if executions is None else executions
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

    def _sse(self, *, clients, events, rate, **_):
        from docg.benchmarks.sse import SSEBenchmark

        if clients < 1 or events < 1 or rate < 0:
            raise CommandError("--clients and --events must be at least 1, --rate at least 0.")
        SSEBenchmark(clients=clients, events=events, rate=rate, write=self.stdout.write).run()

    def _render(self, *, docs, workers, pdf, **_):
        try:
            from docg.benchmarks.render import run_render_benchmark
        except ImportError as exc:
            raise CommandError(f"The render benchmark is not available: {exc}") from exc
        if docs < 1 or workers < 1:
            raise CommandError("--docs and --workers must be at least 1.")
        run_render_benchmark(docs=docs, workers=workers, pdf=pdf, write=self.stdout.write)

    def _dashboard(self, *, executions, requests, workers, timeout, keep, **_):
        from docg.benchmarks.dashboard import DashboardBenchmark

        benchmark = DashboardBenchmark(
            executions=300 if executions is None else executions,
            requests=requests,
            workers=workers,
            keep=keep,
            timeout=timeout,
            write=self.stdout.write,
        )
        try:
            benchmark.run()
        except (ValueError, RuntimeError) as exc:
            raise CommandError(str(exc)) from exc
