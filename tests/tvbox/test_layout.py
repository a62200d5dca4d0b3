"""The box's layout holds: Kivy only in screens, widgets and the window; features reach
each other only through the app's interface; no import hidden in a function; no cycle.

Read from the source with `ast` (nothing is imported), so a wrong arrow fails here with
the module and line that drew it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import tvbox
from tests.support.import_graph import find_cycle
from tvbox.box import AppViewModel
from tvbox.features import FEATURES as LISTED

ROOT = Path(tvbox.__file__).parent
FEATURES = (
    "appointments",
    "calls",
    "home",
    "meals",
    "link",
    "listening",
    "notice",
    "reminders",
    "settings",
    "sos",
)
# Modules that may import Kivy: the window, each feature's screens, the shared widgets.
KIVY_ALLOWED = {"tvbox.app", "tvbox.ui.widgets"} | {f"tvbox.{f}.screen" for f in FEATURES}
# Arrows between feature folders that are allowed, and why. A controller is never reached
# from another feature: what one feature asks of another goes through `BoxContext` or a
# function the app hands it when it builds it.
ALLOWED_ARROWS = {
    # Voice commands act as the remote would on every screen: they read the SOS phase,
    # the reminder on screen and put up the "voice is off" notice (state, not controllers).
    ("tvbox.listening.controller", "tvbox.sos.view"),
    ("tvbox.listening.controller", "tvbox.reminders.view"),
    ("tvbox.listening.controller", "tvbox.notice.view"),
}
# Imports inside functions, and why (never to dodge a circle).
LOCAL_IMPORTS_ALLOWED = {
    "tvbox.__main__": "Kivy is loaded only once the command line is known good",
    "tvbox.calls.lazy_media": "aiortc and PyAV (~60 MB) are loaded on the first call",
}


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (resolved to a module that exists where possible)
    line: int
    local: bool  # inside a function


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imports_of(module: str) -> list[Import]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: list[Import] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(module, alias.name, child.lineno, local))
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                for alias in child.names:
                    sub = f"{child.module}.{alias.name}"
                    target = sub if sub in MODULES else child.module
                    found.append(Import(module, target, child.lineno, local))
            visit(child, inner)

    visit(tree, False)
    return found


ALL = [imp for module in sorted(MODULES) for imp in imports_of(module)]


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in FEATURES else None


def test_only_screens_widgets_and_the_window_import_kivy() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in ALL
        if (i.target == "kivy" or i.target.startswith("kivy.")) and i.source not in KIVY_ALLOWED
    ]
    assert wrong == []


def test_features_do_not_reach_into_each_other() -> None:
    wrong = []
    for i in ALL:
        source, target = feature_of(i.source), feature_of(i.target)
        if source is None or target is None or source == target:
            continue
        if (i.source, i.target) not in ALLOWED_ARROWS:
            wrong.append(f"{i.source}:{i.line} imports {i.target}")
    assert wrong == []


def test_no_feature_controller_is_imported_by_another_feature() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in ALL
        if i.target.endswith(".controller")
        and feature_of(i.target) is not None
        and feature_of(i.source) not in (None, feature_of(i.target))
    ]
    assert wrong == []


def test_no_box_module_is_imported_inside_a_function() -> None:
    wrong = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in ALL
        if i.local and i.target.startswith("tvbox") and i.source not in LOCAL_IMPORTS_ALLOWED
    ]
    assert wrong == []


def test_the_box_import_graph_has_no_cycle() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in ALL:
        if not i.local and i.target in MODULES and i.target != i.source:
            graph[i.source].add(i.target)
    # Importing a submodule first runs its packages' __init__ (they import nothing here).
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_every_feature_is_listed_with_its_screens(vm: AppViewModel) -> None:
    listed = [screen for feature in LISTED for screen in feature.screens]
    assert len(listed) == len(set(listed)), "a screen is listed by two features"
    owned = {screen for controller in vm.router.controllers for screen in controller.screens}
    assert set(listed) == owned, "every screen a controller shows is listed with its feature"
    built = [type(c).__name__ for f in LISTED if f.build is not None for c in f.build(vm)]
    assert built == [type(c).__name__ for c in vm.router.controllers]
    for feature in LISTED:
        if feature.kv is not None:
            assert (ROOT / feature.kv).is_file(), feature.kv
        for ref in feature.screens.values():
            module = ref.partition(":")[0]
            assert module in MODULES and module.endswith(".screen"), ref
