"""The operator map places marks where their coordinates say."""

from __future__ import annotations

from server.models import Elder, ServicePoint, ServicePointKind
from server.web.views import MAP_H, MAP_W, MARGIN, area_map


def test_marks_keep_compass_directions_and_fit_the_map() -> None:
    north_west = Elder(name="NW", latitude=40.0, longitude=116.0)
    south_east = ServicePoint(
        name="SE", kind=ServicePointKind.MEAL_POINT, latitude=39.9, longitude=116.2
    )
    marks = {m.label: m for m in area_map([north_west], [south_east])}
    assert marks["NW"].x < marks["SE"].x, "west is left"
    assert marks["NW"].y < marks["SE"].y, "north is up"
    for mark in marks.values():
        assert MARGIN - 1 <= mark.x <= MAP_W - MARGIN + 1
        assert MARGIN - 1 <= mark.y <= MAP_H - MARGIN + 1
    assert marks["SE"].kind == "meal_point"


def test_a_single_mark_is_centred_and_unplaced_ones_are_left_out() -> None:
    marks = area_map([Elder(name="A", latitude=39.9, longitude=116.4), Elder(name="B")], [])
    assert [(m.label, m.x, m.y) for m in marks] == [("A", MAP_W / 2, MAP_H / 2)]
