"""The workflow editor's ES modules import one another in one direction only (no circle)."""

import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from django.conf import settings

EDITOR = Path(settings.BASE_DIR) / "static" / "js" / "editor"
IMPORT = re.compile(r"""^\s*import\s[^;]*?from\s+["']\./([\w-]+\.js)["']""", re.M)


def imports_of(path: Path) -> set[str]:
    return set(IMPORT.findall(path.read_text()))


def test_the_editor_modules_form_no_circle():
    graph = {path.name: imports_of(path) for path in EDITOR.glob("*.js")}
    assert graph, f"no modules found in {EDITOR}"
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"The editor's modules import each other in a circle: {exc.args[1]}") from None
    assert order[-1] == "main.js"


def test_state_imports_no_view():
    assert imports_of(EDITOR / "state.js") <= {"dom.js", "schema.js"}
