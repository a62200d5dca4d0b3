"""The server's layout holds: features sit on shared layers, and nothing reaches across.

A feature is a package under ``server/`` with a ``feature.py`` (its one declaration). The
test reads the imports (``ast``, so function-local and TYPE_CHECKING imports count too) of
every module under ``server/`` and fails on:

- a shared module importing a feature package (only ``server.app``, which lists the features,
  imports their ``feature`` modules);
- a feature importing another feature's ``routes``, ``pages`` or ``feature`` module, or a
  domain module of another feature that is not an allowed arrow below;
- any ``noqa: F401`` in ``server/`` (nothing is registered by importing a module).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.import_graph import find_cycle

SERVER = Path(__file__).resolve().parents[2] / "server"
FEATURES = sorted(p.parent.name for p in SERVER.glob("*/feature.py"))
UPWARD = {"routes", "pages", "feature"}
# Feature → another feature's domain module: the SOS board's Call button opens the calls'
# page that rings the box with auto-answer.
# Ending an elder's service revokes their boxes the way the family's "remove" does.
# A video visit's doctor rings the elder's box through the calls' own store and signaling.
ALLOWED_ARROWS = {
    ("sos", "server.calls.sos_link"),
    ("elders", "server.pairing.devices"),
    ("appointments", "server.calls.store"),
    ("appointments", "server.calls.signaling"),
}
# Shared → feature: the box socket's hello redeems a pairing secret (one handshake with the
# socket, which no feature could hook into before the box is known).
ALLOWED_SHARED = {("server.ws.box", "server.pairing.codes")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SERVER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (``from a import b`` counts ``a.b`` when it is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                where = SERVER.parent.joinpath(*candidate.split("."))
                if where.with_suffix(".py").exists() or (where / "__init__.py").exists():
                    found.add(candidate)
    return {name for name in found if name == "server" or name.startswith("server.")}


def _feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FEATURES else None


def _modules() -> list[Path]:
    return [p for p in sorted(SERVER.rglob("*.py")) if "migrations" not in p.parts]


def test_the_features_are_the_expected_packages() -> None:
    assert {"health", "auth", "pairing", "elders", "reminders", "sos", "calls"} <= set(FEATURES)


def test_shared_layers_import_no_feature() -> None:
    wrong = []
    for path in _modules():
        module = _module_name(path)
        if _feature_of(module) is not None:
            continue
        for target in _imports(path):
            other = _feature_of(target)
            if other is None or target == f"server.{other}" or (module, target) in ALLOWED_SHARED:
                continue  # (a package's ``__init__`` holds only its docstring)
            if module == "server.app" and target == f"server.{other}.feature":
                continue  # the one list of features
            wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_feature_reaches_into_another() -> None:
    wrong = []
    for path in _modules():
        module = _module_name(path)
        owner = _feature_of(module)
        if owner is None:
            continue
        for target in _imports(path):
            other = _feature_of(target)
            if other is None or other == owner or target == f"server.{other}":
                continue
            if target.split(".")[-1] in UPWARD or (owner, target) not in ALLOWED_ARROWS:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_nothing_is_registered_by_an_import() -> None:
    marked = [
        str(p.relative_to(SERVER.parent))
        for p in SERVER.rglob("*.py")
        if "noqa: F401" in p.read_text(encoding="utf-8")
    ]
    assert marked == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The test would catch a feature importing another's routes (it is not vacuous)."""
    module = tmp_path / "m.py"
    module.write_text("from server.reminders import routes\nfrom server.sos.pages import x\n")
    assert {"server.reminders.routes", "server.sos.pages"} <= _imports(module)


def test_the_server_import_graph_has_no_cycle() -> None:
    """No two server modules import each other, even for type hints only: a layer that
    needs the runtime's type to describe what the runtime holds takes it as Any instead."""
    modules = {_module_name(p): p for p in _modules()}
    graph = {
        module: {t for t in _imports(path) if t in modules and t != module}
        for module, path in modules.items()
    }
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
