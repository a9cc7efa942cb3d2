"""The connector registry: every app docg knows, with its triggers, actions and parameter schemas.

Each provider package under docg/providers/<slug>/ declares an `App` in its
`actions.py` / `triggers.py` and calls `register()`; the providers app's ready()
imports them (`autodiscover`). `GET /api/v1/apps` and workflow activation read
from here. The SDK knows its providers only by that package name: it imports
none of them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from docg.connectors.choices import AuthKind


@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    description: str = ""
    parameters: dict = field(default_factory=lambda: {"type": "object", "properties": {}})
    output: dict = field(default_factory=lambda: {"type": "object"})
    # Where a queue hop buys something (slow provider I/O): the engine reads this.
    queue: str = "default"
    # `handler(ctx: ActionContext, params: dict) -> ActionResult`; triggers have none.
    handler: Callable | None = field(default=None, compare=False)
    # The run phase this action times (render, delivery, signature), if any.
    phase: str | None = None
    # Attempts for transient errors (the first one included), and the step's lease.
    max_attempts: int = 3
    timeout_seconds: int = 60
    # True for actions with no outside effects (no network, at most database writes): the
    # engine runs consecutive inline steps back to back inside one transaction.
    inline: bool = False
    # An inline action that writes to the database gets a savepoint, so a failure undoes its writes.
    writes: bool = False
    # The execution status while this action runs (e.g. "sending" for an email).
    status_running: str | None = None
    # `preflight(node=, organization=, trigger_data=, language=) -> list[issue]`: checks this action adds.
    preflight: Callable | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "parameters": self.parameters,
            "output": self.output,
        }


@dataclass
class App:
    slug: str
    name: str
    description: str = ""
    auth: str = AuthKind.NONE
    # `Test connection` for the app's connections: connection → docg.connectors.health.ConnectionTestResult.
    checker: Callable[[Any], Any] | None = None
    triggers: dict[str, Operation] = field(default_factory=dict)
    actions: dict[str, Operation] = field(default_factory=dict)

    def trigger(self, operation: Operation) -> Operation:
        self.triggers[operation.name] = operation
        return operation

    def action(self, operation: Operation) -> Operation:
        self.actions[operation.name] = operation
        return operation

    def as_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "auth": self.auth,
            "triggers": [op.as_dict() for op in self.triggers.values()],
            "actions": [op.as_dict() for op in self.actions.values()],
        }


_APPS: dict[str, App] = {}


def register(app: App) -> App:
    existing = _APPS.get(app.slug)
    if existing is not None and existing is not app:
        raise ValueError(f"Two connectors claim the slug {app.slug!r}.")
    _APPS[app.slug] = app
    return app


def get_app(slug: str) -> App | None:
    return _APPS.get(slug)


def all_apps() -> list[App]:
    return sorted(_APPS.values(), key=lambda a: a.slug)


def find_operation(slug: str, kind: str, name: str) -> Operation | None:
    app = _APPS.get(slug)
    if app is None:
        return None
    return (app.triggers if kind == "trigger" else app.actions).get(name)


def autodiscover(package: str = "docg.providers") -> None:
    """Import the declaration modules (triggers, actions) of every provider package under `package`."""
    root = Path(import_module(package).__file__).parent
    for provider in sorted(p for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        if provider.name in ("tests", "migrations", "management"):
            continue
        for module in ("triggers", "actions"):
            if (provider / f"{module}.py").exists():
                import_module(f"{package}.{provider.name}.{module}")
