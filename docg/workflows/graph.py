"""Validation of a workflow definition before it may run.

Works on plain node dicts (the frozen definition shape) so the API, activation
and the engine all judge the same thing.
"""

from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from docg.connectors import registry
from docg.workflows.expressions import syntax_error

NodeDict = dict[str, Any]


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def node_index(nodes: list[NodeDict], key: str) -> int:
    """The position of the node with this key; KeyError when there is none."""
    for index, node in enumerate(nodes):
        if node["key"] == key:
            return index
    raise KeyError(key)


def node_operation(node: NodeDict) -> registry.Operation | None:
    """The connector operation a node runs; None when its app or operation is unknown."""
    return registry.find_operation(node.get("app", ""), node.get("kind", ""), node.get("operation", ""))


def default_next(nodes: list[NodeDict], index: int) -> str | None:
    """A node's `next`, else the following node in list order; None at the end."""
    node = nodes[index]
    if node.get("next"):
        return node["next"]
    return nodes[index + 1]["key"] if index + 1 < len(nodes) else None


def successors(nodes: list[NodeDict], index: int) -> list[str]:
    """Keys a node can hand over to: explicit `next`, each branch, `else`, or the next node in list order."""
    node = nodes[index]
    if not node.get("branches"):
        return [t for t in [default_next(nodes, index)] if t]
    following = nodes[index + 1]["key"] if index + 1 < len(nodes) else ""
    targets = [b.get("next", "") for b in node["branches"]]
    targets.append(node.get("else") or following)
    return [t for t in targets if t]


def schema_errors(schema: dict, parameters: Any) -> list[str]:
    """JSON-schema errors, except where the value is an expression only a run can evaluate."""
    validator = Draft202012Validator(schema)
    messages = []
    for error in sorted(validator.iter_errors(parameters), key=lambda e: list(e.absolute_path)):
        if is_expression(error.instance):
            continue
        where = ".".join(str(p) for p in error.absolute_path) or "parameters"
        messages.append(f"{where}: {error.message}")
    return messages


def parameter_strings(value: Any, where: str = ""):
    """(path, text) of every string inside a node's parameters: `variables.total`, `items[0].name`."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from parameter_strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from parameter_strings(item, f"{where}[{i}]")


def expression_errors(node: NodeDict) -> list[tuple[str, str, str]]:
    """(field, where, message) for every {{ }} / {% %} of a node, and branch condition, Jinja cannot compile.

    `field` is the form field (`parameters.<name>` or `branches`), `where` the exact place
    (`variables.total`, `branches[0].when`), which the message names too.
    """
    sources = [
        (f"parameters.{where.split('.')[0].split('[')[0]}", where, text, False)
        for where, text in parameter_strings(node.get("parameters") or {})
        if is_expression(text)
    ]
    for i, option in enumerate(node.get("branches") or []):
        when = option.get("when") if isinstance(option, dict) else None
        if isinstance(when, str) and when.strip():
            sources.append(("branches", f"branches[{i}].when", when, not is_expression(when)))
    problems = []
    for field, where, text, bare in sources:
        error = syntax_error(text, bare=bare)
        if error:
            message = _("The expression in %(where)s cannot be read: %(error)s") % {"where": where, "error": error}
            problems.append((field, where, message))
    return problems


def _problem(node_key: str, field: str, code: str, message: str) -> dict[str, str]:
    return {"node_key": node_key, "field": field, "code": code, "message": message}


def structure_errors(nodes: list[NodeDict]) -> list[dict[str, str]]:
    """Problems that make a definition unsavable: duplicate keys, targets that do not exist."""
    problems = []
    keys = [n["key"] for n in nodes]
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            problems.append(_problem(key, "key", "duplicate_key", f"Two nodes use the key {key!r}."))
        seen.add(key)
    for node in nodes:
        refs = [("next", node.get("next"))] + [("branches", b.get("next")) for b in node.get("branches") or []]
        refs.append(("else", node.get("else")))
        for field, target in refs:
            if target and target not in seen:
                problems.append(
                    _problem(node["key"], field, "unknown_target", f"{field} points to {target!r}, which is no node.")
                )
            if target and target == node["key"]:
                problems.append(_problem(node["key"], field, "self_loop", "A node cannot lead to itself."))
        problems += [
            _problem(node["key"], f, "invalid_expression", message) for f, _w, message in expression_errors(node)
        ]
    return problems


def _cycle(nodes: list[NodeDict]) -> list[str] | None:
    index_of = {n["key"]: i for i, n in enumerate(nodes)}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(key: str, path: list[str]) -> list[str] | None:
        state[key] = 1
        for target in successors(nodes, index_of[key]):
            if target not in index_of:
                continue
            if state.get(target) == 1:
                return [*path, key, target]
            if target not in state:
                found = visit(target, [*path, key])
                if found:
                    return found
        state[key] = 2
        return None

    for node in nodes:
        if node["key"] not in state:
            found = visit(node["key"], [])
            if found:
                start = found.index(found[-1])
                return found[start:]
    return None


def activation_errors(nodes: list[NodeDict]) -> list[dict[str, str]]:
    """Every reason the definition cannot be activated; an empty list means it can."""
    problems = structure_errors(nodes)
    # Named first: an unknown app explains more than what follows from it (no action, no trigger).
    problems += [
        _problem(n["key"], "app", "unknown_app", f"There is no app {n.get('app')!r}.")
        for n in nodes
        if registry.get_app(n.get("app", "")) is None
    ]
    triggers = [n for n in nodes if n.get("kind") == "trigger"]
    if len(triggers) != 1:
        problems.append(
            _problem("", "nodes", "trigger_count", f"A workflow needs exactly one trigger; it has {len(triggers)}.")
        )
    elif nodes[0].get("kind") != "trigger":
        problems.append(
            _problem(triggers[0]["key"], "kind", "trigger_not_first", "The trigger must be the first node.")
        )
    if len(nodes) < 2:
        problems.append(_problem("", "nodes", "no_actions", "A workflow needs at least one action after its trigger."))
    if problems:
        return problems
    trigger_key = nodes[0]["key"]
    cycle = _cycle(nodes)
    if cycle:
        problems.append(_problem(cycle[0], "next", "cycle", "The flow loops: " + " → ".join(cycle) + "."))
    for index, node in enumerate(nodes):
        key = node["key"]
        if index and trigger_key in successors(nodes, index):
            problems.append(_problem(key, "next", "targets_trigger", "No node may lead back to the trigger."))
        operation = node_operation(node)
        if registry.get_app(node.get("app", "")) is None:
            continue  # reported above
        if operation is None:
            problems.append(
                _problem(
                    key,
                    "operation",
                    "unknown_operation",
                    f"The app {node['app']!r} has no {node.get('kind')} named {node.get('operation')!r}.",
                )
            )
            continue
        is_branch = node["app"] == "core" and node["operation"] == "branch"
        if is_branch and not node.get("branches"):
            problems.append(_problem(key, "branches", "branches_required", "A branch node needs at least one branch."))
        if node.get("branches") and not is_branch:
            problems.append(_problem(key, "branches", "branches_not_allowed", "Only core.branch nodes have branches."))
        for message in schema_errors(operation.parameters, node.get("parameters") or {}):
            problems.append(_problem(key, "parameters", "invalid_parameters", message))
    return problems
