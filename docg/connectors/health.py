"""Checking a connection's credential against its provider (`POST /connections/{id}/test`).

Each connector package may register a checker for its provider; the OAuth and
connectors work of the connectors issue fills these in.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from docg.connectors.models import DataSourceConnection


@dataclass(frozen=True)
class ConnectionTestResult:
    ok: bool
    code: str = "ok"
    message: str = ""
    details: dict = field(default_factory=dict)


_CHECKERS: dict[str, Callable[[DataSourceConnection], ConnectionTestResult]] = {}


def register_checker(provider: str, checker: Callable[[DataSourceConnection], ConnectionTestResult]) -> None:
    _CHECKERS[provider] = checker


def connection_test(*, connection: DataSourceConnection, by=None) -> ConnectionTestResult:
    """Ask the provider whether the connection's credential still works."""
    checker = _CHECKERS.get(connection.provider)
    if checker is None:
        return ConnectionTestResult(
            False, "test.unsupported", f"docg cannot test {connection.provider} connections yet."
        )
    return checker(connection)
