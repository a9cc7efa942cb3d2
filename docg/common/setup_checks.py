"""The checks behind `manage.py verify_setup`: is this installation able to run docg?

Each check returns a `CheckResult`; a check never raises, it reports FAIL with
the reason instead, so one broken service does not hide the state of the others.
"""

import itertools
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, StringConverter, UUIDConverter

OK, FAIL, WARN = "OK", "FAIL", "WARN"
REDIS_TIMEOUT_SECONDS = 3
UNO_IMPORT_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    detail: str


def _redis_client():
    import redis

    return redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )


def check_database() -> CheckResult:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return CheckResult("database", OK, f"{connection.vendor} {connection.settings_dict['NAME']}")


def check_migrations() -> CheckResult:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        pending = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:3])
        more = f" and {len(plan) - 3} more" if len(plan) > 3 else ""
        return CheckResult("migrations", FAIL, f"{len(plan)} not applied ({pending}{more}): run manage.py migrate")
    return CheckResult("migrations", OK, "all applied")


def check_redis() -> CheckResult:
    if not settings.REDIS_URL:
        return CheckResult("redis", OK, "embedded mode (no Redis)")
    client = _redis_client()
    client.ping()
    version = client.info("server").get("redis_version", "?")
    return CheckResult("redis", OK, f"PING answered (Redis {version})")


def check_stream() -> CheckResult:
    if not settings.REDIS_URL:
        return CheckResult("event stream", OK, "in-process")
    client = _redis_client()
    key = f"docg:verify:{uuid.uuid4()}"
    try:
        entry_id = client.xadd(key, {"check": "verify_setup"})
        # A leftover key would be harmless, but expire it in case DELETE never runs.
        client.expire(key, 60)
        entries = client.xrange(key)
    finally:
        client.delete(key)
    if [e[0] for e in entries] != [entry_id]:
        return CheckResult("event stream", FAIL, f"XRANGE returned {entries!r} after XADD {entry_id!r}")
    return CheckResult("event stream", OK, "XADD / XRANGE / DELETE on Redis")


def check_storage() -> CheckResult:
    content = f"docg verify_setup {uuid.uuid4()}".encode()
    name = default_storage.save(f"docg-verify-{uuid.uuid4()}.txt", ContentFile(content))
    try:
        with default_storage.open(name) as handle:
            read_back = handle.read()
    finally:
        default_storage.delete(name)
    if read_back != content:
        return CheckResult("storage", FAIL, f"{name} read back different bytes")
    return CheckResult("storage", OK, f"{default_storage.__class__.__name__} save/read/delete")


def check_libreoffice() -> CheckResult:
    """Can the warm PDF pool start? It needs soffice and a Python that imports `uno` (python3-uno).

    Only PDF conversion needs LibreOffice, so a problem is a warning. Without `uno` soffice still converts,
    but every document pays a cold start of a few seconds instead of tens of milliseconds.
    """
    soffice = shutil.which(settings.LIBREOFFICE_SOFFICE)
    if soffice is None:
        return CheckResult(
            "libreoffice", WARN, f"{settings.LIBREOFFICE_SOFFICE} not found: PDF conversion is unavailable"
        )
    python = settings.LIBREOFFICE_PYTHON
    try:
        imported = subprocess.run(  # noqa: S603 (the operator's own setting)
            [python, "-I", "-c", "import uno"], capture_output=True, timeout=UNO_IMPORT_TIMEOUT_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = f"{python} could not be run ({type(exc).__name__})"
    else:
        problem = "" if imported.returncode == 0 else f"{python} cannot import uno (install python3-uno)"
    if problem:
        return CheckResult(
            "libreoffice", WARN, f"{problem}: no warm pool, every PDF takes a cold soffice start ({soffice})"
        )
    program = Path(soffice).resolve().parent
    if (program / "libswlo.so").exists() and not (program / "libsclo.so").exists():
        # Debian splits LibreOffice by application: Writer and Impress convert, Excel templates cannot.
        return CheckResult(
            "libreoffice", WARN, f"Calc is missing ({program}): .xlsx documents cannot become PDFs "
            "(install libreoffice-calc-nogui)"
        )  # fmt: skip
    return CheckResult("libreoffice", OK, f"warm pool ready: {soffice}, UNO bridge on {python}")


# --- URL names -----------------------------------------------------------------

_GENERIC_SAMPLES: tuple[Any, ...] = (1, "x", uuid.UUID(int=1))


def _converter_candidates(converter: Any) -> list[Any]:
    if isinstance(converter, IntConverter):
        return [1]
    if isinstance(converter, UUIDConverter):
        return [uuid.UUID(int=1)]
    if isinstance(converter, StringConverter):  # also slug and path
        return ["x"]
    # A project converter: any sample its regex accepts.
    regex = re.compile(getattr(converter, "regex", "[^/]+"))
    return [s for s in _GENERIC_SAMPLES if regex.fullmatch(str(s))] or list(_GENERIC_SAMPLES)


def _regex_group_candidates(regex: str, group: str) -> list[Any]:
    # An alternation of literals, as the admin's app_list uses: the first literal is a valid value.
    match = re.search(rf"\(\?P<{re.escape(group)}>([\w|.-]+)\)", regex)
    literals = [match.group(1).split("|")[0]] if match else []
    return [*literals, *_GENERIC_SAMPLES]


def _parameters(pattern: URLPattern | URLResolver) -> dict[str, list[Any]]:
    route = pattern.pattern
    converters = getattr(route, "converters", {})
    regex = route.regex.pattern
    params = {}
    for group in route.regex.groupindex:
        if group in converters:
            params[group] = _converter_candidates(converters[group])
        else:
            params[group] = _regex_group_candidates(regex, group)
    return params


def iter_url_names(
    patterns: list | None = None, namespace: str = "", params: dict[str, list[Any]] | None = None
) -> Iterator[tuple[str, dict[str, list[Any]]]]:
    """Every named route as (namespaced name, candidate values for each URL parameter on its path)."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    params = params or {}
    for pattern in patterns:
        here = {**params, **_parameters(pattern)}
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from iter_url_names(pattern.url_patterns, inner, here)
        elif pattern.name:
            yield f"{namespace}{pattern.name}", here


def _reverses(name: str, params: dict[str, list[Any]]) -> bool:
    keys = list(params)
    for values in itertools.islice(itertools.product(*(params[k] for k in keys)), 50):
        try:
            reverse(name, kwargs=dict(zip(keys, values, strict=True)) or None)
            return True
        except NoReverseMatch:
            continue
    return False


def url_name_results() -> list[CheckResult]:
    """One FAIL per route name that cannot be reversed, or one OK with the count."""
    names: dict[str, dict[str, list[Any]]] = {}
    for name, params in iter_url_names():
        names.setdefault(name, params)
    failures = [name for name, params in names.items() if not _reverses(name, params)]
    if not failures:
        return [CheckResult("url names", OK, f"{len(names)} names reverse")]
    return [CheckResult(f"url {name}", FAIL, "cannot be reversed") for name in failures]


def _guarded(name: str, check: Callable[[], CheckResult | list[CheckResult]]) -> list[CheckResult]:
    try:
        result = check()
    except Exception as exc:  # a check reports its failure; it must not stop the others
        detail = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
        return [CheckResult(name, FAIL, detail)]
    return result if isinstance(result, list) else [result]


CHECKS: list[tuple[str, Callable[[], CheckResult | list[CheckResult]]]] = [
    ("database", check_database),
    ("migrations", check_migrations),
    ("redis", check_redis),
    ("event stream", check_stream),
    ("storage", check_storage),
    ("libreoffice", check_libreoffice),
    ("url names", url_name_results),
]


def run_checks() -> list[CheckResult]:
    """Run every check, in order."""
    return [result for name, check in CHECKS for result in _guarded(name, check)]


def format_table(results: list[CheckResult]) -> str:
    """A plain-text table: check | status | detail."""
    rows = [("check", "status", "detail"), *((r.name, r.status, r.detail) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"{row[0]:<{widths[0]}} | {row[1]:<{widths[1]}} | {row[2]}" for row in rows]
    lines.insert(1, f"{'-' * widths[0]}-+-{'-' * widths[1]}-+-{'-' * 6}")
    return "\n".join(lines)
