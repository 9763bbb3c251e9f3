"""The layers' import rules, read from the source (every import, at module level or inside a function):

- knowledge/ is the domain: it imports nothing of the project but itself, and neither Telegram nor SQL;
- dialogs/ imports knowledge/ and itself, and neither Telegram nor SQL;
- storage/ imports from dialogs/ only its plain data types (the session, screens, ports, effects);
- no module imports, through any chain, a module that imports it back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "dialogs", "knowledge", "storage")
DIALOG_DATA = {"dialogs", "dialogs.session", "dialogs.screens", "dialogs.ports", "dialogs.effects"}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports (a `from a import b` counts b too when a.b is a module)."""
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts]
    modules = {_module(p): p for p in files}
    return {name: {m for m in _imports(path) if m in modules} | _external(path) for name, path in modules.items()}


def _external(path: Path) -> set[str]:
    return {m for m in _imports(path) if m.split(".")[0] in ("telegram", "sqlalchemy", "alembic", "aiohttp")}


GRAPH = _graph()


def _of(package: str) -> dict[str, set[str]]:
    return {m: deps for m, deps in GRAPH.items() if m.split(".")[0] == package}


@pytest.mark.parametrize("package", ["knowledge", "dialogs"])
def test_the_domain_and_the_dialogs_know_neither_telegram_nor_sql(package: str) -> None:
    offending = {
        m: sorted(d for d in deps if d.split(".")[0] in ("telegram", "sqlalchemy", "alembic", "aiohttp"))
        for m, deps in _of(package).items()
    }
    assert {m: d for m, d in offending.items() if d} == {}


def test_knowledge_imports_only_itself() -> None:
    offending = {
        m: sorted(d for d in deps if d.split(".")[0] in PACKAGES and not d.startswith("knowledge"))
        for m, deps in _of("knowledge").items()
    }
    assert {m: d for m, d in offending.items() if d} == {}


def test_dialogs_import_neither_storage_nor_the_bot() -> None:
    offending = {
        m: sorted(d for d in deps if d.split(".")[0] in ("storage", "bot")) for m, deps in _of("dialogs").items()
    }
    assert {m: d for m, d in offending.items() if d} == {}


def test_storage_imports_only_the_dialogs_plain_data_types() -> None:
    offending = {
        m: sorted(d for d in deps if d.startswith("dialogs") and d not in DIALOG_DATA)
        for m, deps in _of("storage").items()
    }
    assert {m: d for m, d in offending.items() if d} == {}


def test_no_import_cycles() -> None:
    project = {m: {d for d in deps if d in GRAPH and d != m and not m.startswith(d + ".")} for m, deps in GRAPH.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(project[module]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in sorted(project):
        if module not in state:
            visit(module, [module])
    assert cycles == []
