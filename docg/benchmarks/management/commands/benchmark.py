"""`manage.py benchmark engine|sse|render|dashboard …`: measured figures, never asserted in tests.

- engine:    `--executions N --steps K --workers W [--processes P] [--keep]`
- sse:       `--clients C --events E [--rate R]`
- render:    `--docs N --workers W [--pdf]`
- api:       `--requests N --concurrency C [--rate R] [--web-processes P] [--profile OUT]` (GET one run, over HTTP)
- webhook:   `--requests N --concurrency C --single S --worker-processes P` (the Procfile's processes, over HTTP)
- dashboard: `--executions N --requests R [--keep]`
- faults:    `--executions N --worker-processes P --kills K --call-seconds S [--fault F] [--worker-logs DIR]`
             (worker kill, PostgreSQL and Redis blips)
- purge:     `--executions N --steps K --logs L --batch-size B` (the retention purge, on PostgreSQL)
"""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Benchmark the engine, the live event stream, document rendering or the dashboard on this configuration."

    def add_arguments(self, parser):
        parser.add_argument(
            "target",
            choices=["engine", "webhook", "api", "sse", "render", "dashboard", "purge", "faults"],
            help="What to benchmark.",
        )
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
        sse.add_argument(
            "--rate",
            type=float,
            default=None,
            help="sse: events published per second (5; 0: as fast as possible). api: open-loop GETs/s (0: none).",
        )
        render = parser.add_argument_group("render")
        render.add_argument("--docs", type=int, default=50, help="Documents to render per kind.")
        render.add_argument("--pdf", action="store_true", help="Also convert to PDF through LibreOffice.")
        webhook = parser.add_argument_group("webhook (also --steps, --timeout, --keep)")
        webhook.add_argument(
            "--requests", type=int, default=None, help="webhook: POSTs under load (2000); dashboard: 50."
        )
        webhook.add_argument(
            "--concurrency", type=int, default=None, help="Requests in flight at once (webhook: 20; api: 50)."
        )
        webhook.add_argument("--single", type=int, default=50, help="webhook: requests sent one at a time first.")
        webhook.add_argument(
            "--worker-processes",
            type=int,
            default=1,
            help="webhook: copies of the Procfile's worker line to start (faults: at least 2).",
        )
        api = parser.add_argument_group("api (also --requests: 2000, --concurrency, --keep)")
        api.add_argument(
            "--web-processes", type=int, default=1, help="api: uvicorn worker processes (WEB_CONCURRENCY)."
        )
        api.add_argument("--profile", default="", help="api: py-spy raw output of the first measured phase here.")
        faults = parser.add_argument_group("faults (also --executions: runs, 100; --worker-processes; --timeout)")
        faults.add_argument("--kills", type=int, default=4, help="faults: workers killed and database blips per run.")
        faults.add_argument("--call-seconds", type=float, default=1.0, help="faults: the loopback provider's delay.")
        faults.add_argument(
            "--fault",
            action="append",
            choices=["worker-kill", "pg-blip", "redis-blip"],
            help="faults: only this fault (repeat for several; default: all three).",
        )
        faults.add_argument("--worker-logs", default=None, help="faults: write each worker's output to this folder.")

        purge = parser.add_argument_group("purge (also --executions, --steps)")
        purge.add_argument("--logs", type=int, default=4, help="purge: log lines per run.")
        purge.add_argument("--batch-size", type=int, default=500, help="purge: runs per batch transaction.")

    def handle(self, *args, target, **options):
        if target == "faults":
            return self._faults(**options)
        if target == "purge":
            return self._purge(**options)
        if target == "webhook":
            return self._webhook(**options)
        if target == "api":
            return self._api(**options)
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

    def _faults(self, *, executions, worker_processes, kills, call_seconds, timeout, fault, worker_logs, **_):
        from docg.benchmarks.faults import FAULTS, faults_benchmark

        faults_benchmark(
            runs=100 if executions is None else executions, worker_processes=max(worker_processes, 2), kills=kills,
            call_seconds=call_seconds, timeout=timeout or 600, write=self.stdout.write,
            faults=tuple(f for f in FAULTS if f in fault) if fault else FAULTS, log_dir=worker_logs,
        )  # fmt: skip

    def _webhook(self, *, requests, concurrency, single, worker_processes, steps, timeout, keep, **_):
        from docg.benchmarks.webhook import WebhookBenchmark

        concurrency = 20 if concurrency is None else concurrency
        if (requests is not None and requests < 1) or concurrency < 1 or single < 0 or worker_processes < 1:
            raise CommandError(
                "--requests, --concurrency and --worker-processes must be at least 1; --single at least 0."
            )
        self.stdout.write("docg webhook benchmark: the Procfile's web and worker processes, driven over HTTP")
        try:
            WebhookBenchmark(
                requests=2000 if requests is None else requests, concurrency=concurrency, steps=steps, single=single,
                worker_processes=worker_processes, timeout=timeout or 600, keep=keep, write=self.stdout.write,
            ).run()  # fmt: skip
        except (ValueError, RuntimeError) as exc:
            raise CommandError(str(exc)) from exc

    def _api(self, *, requests, concurrency, rate, web_processes, profile, keep, **_):
        from docg.benchmarks.api import ApiBenchmark

        concurrency, rate = 50 if concurrency is None else concurrency, rate or 0
        if (requests is not None and requests < 1) or concurrency < 1 or rate < 0 or web_processes < 1:
            raise CommandError("--requests, --concurrency and --web-processes must be at least 1, --rate at least 0.")
        self.stdout.write("docg API benchmark: GET /api/v1/executions/{id} on the Procfile's web line, over HTTP")
        try:
            ApiBenchmark(
                requests=2000 if requests is None else requests, concurrency=concurrency, rate=rate,
                web_processes=web_processes, profile=profile, keep=keep, write=self.stdout.write,
            ).run()  # fmt: skip
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc

    def _sse(self, *, clients, events, rate, **_):
        from docg.benchmarks.sse import SSEBenchmark

        rate = 5 if rate is None else rate
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
            requests=50 if requests is None else requests,
            workers=workers,
            keep=keep,
            timeout=timeout,
            write=self.stdout.write,
        )
        try:
            benchmark.run()
        except (ValueError, RuntimeError) as exc:
            raise CommandError(str(exc)) from exc

    def _purge(self, *, executions, steps, logs, batch_size, **_):
        from docg.benchmarks.purge import PurgeBenchmark

        executions = 100_000 if executions is None else executions
        if executions < 1 or steps < 1 or logs < 0 or batch_size < 1:
            raise CommandError("--executions, --steps and --batch-size must be at least 1.")
        PurgeBenchmark(
            executions=executions, steps=steps, logs=logs, batch_size=batch_size, write=self.stdout.write
        ).run()
