"""Import circles in a graph of modules (module -> the modules it imports), for the layout tests."""

from __future__ import annotations

from collections.abc import Mapping, Set


def find_cycle(graph: Mapping[str, Set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as ``[a, b, …, a]``, or None if there is none."""
    done: set[str] = set()
    path: list[str] = []

    def walk(module: str) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        path.append(module)
        for target in sorted(graph.get(module, ())):
            found = walk(target)
            if found:
                return found
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        found = walk(module)
        if found:
            return found
    return None
