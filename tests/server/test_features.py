"""The features' declaration: one list, built into the runtime's tables at start-up."""

from __future__ import annotations

import pytest

from protocol import DoseAnswer, MealOrder, MealSkip, SosRaise
from server.app import FEATURES, create_app
from server.features import Feature, Wiring
from server.runtime import Runtime
from server.sos.socket import box_sos


def test_every_feature_handler_is_in_the_runtime_tables(rt: Runtime) -> None:
    create_app(runtime=rt)
    assert rt.wiring.box_handlers[SosRaise] is box_sos
    assert DoseAnswer in rt.wiring.box_handlers
    # reminders' plans, then the SOS check-in rule, the visits (appointments), the meals
    assert len(rt.wiring.box_connected) == 4
    assert MealOrder in rt.wiring.box_handlers and MealSkip in rt.wiring.box_handlers
    family = [s for s in rt.wiring.sections if s.page == "family"]
    assert [s.template for s in family if s.place == "main"] == [
        "reminders/_family.html",
        "appointments/_family.html",
        "calls/_family.html",
        "meals/_family.html",
        "sos/_board.html",
    ]
    assert [s.template for s in family if s.place == "urgent"] == [
        "sos/_urgent.html",
        "reminders/_urgent.html",
        "calls/_urgent.html",
    ]
    assert [s.template for s in family if s.place == "glance"] == [
        "reminders/_glance.html",
        "appointments/_glance.html",
    ]


def test_two_features_handling_one_message_type_refuse_to_start(rt: Runtime) -> None:
    rival = Feature(name="rival", box_handlers={SosRaise: box_sos})
    with pytest.raises(ValueError, match="SosRaise has two box handlers"):
        create_app(runtime=rt, features=(*FEATURES, rival))


def test_a_feature_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        Wiring.build((FEATURES[0], FEATURES[0]))


def test_the_tables_cannot_be_changed_after_start_up() -> None:
    wiring = Wiring.build(FEATURES)
    with pytest.raises(TypeError):
        wiring.box_handlers[SosRaise] = box_sos  # type: ignore[index]
