"""What the meals feature adds to the server: its JSON routes (meal points and kitchens,
elders and orders, areas' subsidies, the box), the box's socket messages and the meals
list it gets on connect, its pages (the family's Meals panel and statement, the meal point's
page, the care centre's meals page), the sweep that makes standing orders into orders before
each cut-off, and its demo data."""

from __future__ import annotations

from protocol import MealCancel, MealChange, MealOrder, MealSkip
from server.features import Feature, Section, every
from server.meals import (
    kitchen_pages,
    operator_pages,
    pages,
    routes_areas,
    routes_box,
    routes_elders,
    routes_points,
    socket,
)
from server.meals.demo import seed_meals
from server.meals.standing import SWEEP_SECONDS, materialise_standing
from server.meals.tv import meals_on_connect

FEATURE = Feature(
    name="meals",
    routers=(
        routes_points.router,
        routes_elders.router,
        routes_areas.router,
        routes_box.router,
        pages.router,
        kitchen_pages.router,
        operator_pages.router,
    ),
    box_handlers={
        MealOrder: socket.order,
        MealChange: socket.change,
        MealCancel: socket.cancel,
        MealSkip: socket.skip,
    },
    on_box_connected=(meals_on_connect,),
    sweeps=(every(SWEEP_SECONDS, materialise_standing),),
    sections=(
        Section("family", pages.TEMPLATE, 40, pages.family_section, title="home.panel_meals"),
        Section("operator", "meals/_operator.html", 40, operator_pages.operator_section),
    ),
    demo=(seed_meals,),
)
