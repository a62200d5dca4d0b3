"""What a feature adds to the server, declared once, and the tables built from the list.

Each feature package (``server/reminders/``, ``server/sos/``…) exports one `Feature` from its
own ``feature.py``; `server.app` lists the features in one tuple and builds the app from them.
Nothing is registered by importing a module: the sockets, the scheduler and the pages look
their handlers, hooks, sweeps and sections up in the `Wiring` the runtime holds (``rt.wiring``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from protocol import Message
from server.web.sections import Section
from server.ws.dispatch import ConnectedHook, DisconnectedHook, Handler

__all__ = ["DemoSeed", "Feature", "PeriodicJob", "Section", "Wiring", "every", "demo_seeds"]

# fn(rt): a sweep, given the `server.runtime.Runtime` (typed Any: the runtime holds the wiring
# built here, so naming it would make the two modules import each other). It returns what it
# did in a few words ("3 missed-dose alerts sent"), logged at INFO, or None when it found
# nothing to do (logged at DEBUG: an idle server writes no line per tick).
Sweep = Callable[[Any], str | None]
# fn(db): what a feature adds to the demo world once it exists (`server.demo.seed_demo`).
DemoSeed = Callable[[Session], None]


@dataclass(frozen=True)
class PeriodicJob:
    """A sweep and how often it runs (on the sweeps' threads; see `server.scheduler`)."""

    name: str
    seconds: float
    fn: Sweep


def every(seconds: float, fn: Sweep) -> PeriodicJob:
    """``fn(rt)`` to run every ``seconds`` while the server runs, named after the function."""
    return PeriodicJob(f"{fn.__module__}.{fn.__name__}", seconds, fn)


@dataclass(frozen=True)
class Feature:
    """One feature's routes, socket handlers, connect hooks, sweeps and page sections."""

    name: str
    routers: tuple[APIRouter, ...] = ()
    # fn(conn, rt, message) for messages a paired box sends / a logged-in page sends
    box_handlers: Mapping[type[Message], Handler] = field(default_factory=dict)
    web_handlers: Mapping[type[Message], Handler] = field(default_factory=dict)
    # state(db, elder_id) -> Message | None: this feature's state, sent to a box after its
    # Welcome (read in the hello's database session; see `server.ws.dispatch`)
    on_box_connected: tuple[ConnectedHook, ...] = ()
    # fn(device_id, rt) once a paired box's last socket has closed
    on_box_disconnected: tuple[DisconnectedHook, ...] = ()
    sweeps: tuple[PeriodicJob, ...] = ()
    sections: tuple[Section, ...] = ()
    demo: tuple[DemoSeed, ...] = ()


@dataclass(frozen=True)
class Wiring:
    """The handler tables, hooks, sweeps and sections of a list of features."""

    features: tuple[Feature, ...] = ()
    box_handlers: Mapping[type[Message], Handler] = field(default_factory=dict)
    web_handlers: Mapping[type[Message], Handler] = field(default_factory=dict)
    box_connected: tuple[ConnectedHook, ...] = ()
    box_disconnected: tuple[DisconnectedHook, ...] = ()
    sweeps: tuple[PeriodicJob, ...] = ()
    sections: tuple[Section, ...] = ()

    @classmethod
    def build(cls, features: Iterable[Feature]) -> Wiring:
        """The wiring of ``features``; a message type handled twice or a name used twice fails."""
        listed = tuple(features)
        names = [f.name for f in listed]
        if len(set(names)) != len(names):
            raise ValueError(f"a feature is listed twice: {names}")
        return cls(
            features=listed,
            box_handlers=_merge("box", listed, lambda f: f.box_handlers),
            web_handlers=_merge("web", listed, lambda f: f.web_handlers),
            box_connected=tuple(h for f in listed for h in f.on_box_connected),
            box_disconnected=tuple(h for f in listed for h in f.on_box_disconnected),
            sweeps=tuple(s for f in listed for s in f.sweeps),
            sections=tuple(
                sorted(
                    (s for f in listed for s in f.sections),
                    key=lambda s: (s.page, s.order, s.template),
                )
            ),
        )

    @property
    def routers(self) -> tuple[APIRouter, ...]:
        """Every feature's routers, in the order the features are listed."""
        return tuple(r for f in self.features for r in f.routers)


def _merge(
    socket: str,
    features: tuple[Feature, ...],
    table: Callable[[Feature], Mapping[type[Message], Handler]],
) -> Mapping[type[Message], Handler]:
    merged: dict[type[Message], Handler] = {}
    owner: dict[type[Message], str] = {}
    for feature in features:
        for kind, handler in table(feature).items():
            if kind in merged:
                raise ValueError(
                    f"{kind.__name__} has two {socket} handlers: "
                    f"features {owner[kind]!r} and {feature.name!r}"
                )
            merged[kind] = handler
            owner[kind] = feature.name
    return MappingProxyType(merged)


def demo_seeds(features: Iterable[Feature]) -> tuple[DemoSeed, ...]:
    """Every feature's demo seeds, in the order the features are listed."""
    return tuple(seed for f in features for seed in f.demo)
