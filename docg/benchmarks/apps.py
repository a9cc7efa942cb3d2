from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """`manage.py benchmark engine|render|sse|dashboard`: measured figures, kept out of the apps they measure."""

    name = "docg.benchmarks"
    label = "benchmarks"
    verbose_name = "Benchmarks"
