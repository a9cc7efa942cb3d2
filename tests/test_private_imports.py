"""No module in docg/ imports a `_private` name from another module (test code may).

ruff's import-private-name (PLC2701) skips imports inside one's own top-level
package, which is every import in docg, so this walks the syntax trees itself.
"""

import ast
from pathlib import Path

import docg

ROOT = Path(docg.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private_imports(path: Path) -> list[str]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = node.module or ""
        if node.level:  # a relative import: resolve it against this module's package
            base = package.split(".")
            source = ".".join([*base[: len(base) - node.level + 1], *([source] if source else [])])
        for alias in node.names:
            private = alias.name.startswith("_") and not alias.name.startswith("__")
            if private and source != module:
                found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} imports {alias.name} from {source}")
    return found


def production_modules() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if "tests" not in path.relative_to(ROOT).parts and "migrations" not in path.relative_to(ROOT).parts
    )


def test_no_module_imports_a_private_name_from_another():
    found = [line for path in production_modules() for line in _private_imports(path)]
    assert not found, "Private names stay in their module; make the name public or move the caller:\n" + "\n".join(
        found
    )


def test_the_check_sees_a_private_import(tmp_path, monkeypatch):
    package = tmp_path / "docg" / "things"
    package.mkdir(parents=True)
    (package / "a.py").write_text("from docg.things.b import _helper, public\nfrom .b import _other\n")
    monkeypatch.setattr("tests.test_private_imports.ROOT", tmp_path / "docg")
    assert _private_imports(package / "a.py") == [
        "docg/things/a.py:1 imports _helper from docg.things.b",
        "docg/things/a.py:2 imports _other from docg.things.b",
    ]
