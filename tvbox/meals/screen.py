"""The meals screens: what is ordered and tomorrow's menu, an order's choices, the set meals.

Each shows one `PageView` of the meals controller: a title, a body, up to six
numbered choices and a hint.
"""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from tvbox.box import AppViewModel
from tvbox.meals.controller import MealsController


class MealPage(Screen):
    """One meals screen; copies its page view in while it is on screen."""

    title = StringProperty("")
    body = StringProperty("")
    hint = StringProperty("")
    choices = ListProperty([])

    def refresh(self, vm: AppViewModel) -> None:
        """Copy the controller's page view into the kv properties (only while shown)."""
        if vm.screen.value != self.name:
            return
        control = vm.router.owner(vm.screen)
        assert isinstance(control, MealsController)
        page = control.page(vm.screen)
        self.title = page.title
        self.body = page.body
        self.hint = page.hint
        self.choices = [
            {"number": str(c.number), "label": c.label, "focused": c.focused} for c in page.choices
        ]
        _fill(self.ids.choices, self.choices)


class MealsScreen(MealPage):
    """The Meals tile: what is ordered, and tomorrow's menu."""


class MealOrderScreen(MealPage):
    """One order: keep, change, cancel or skip."""


class MealMenuScreen(MealPage):
    """Another set meal for an order."""


def _fill(container: Any, items: list[dict[str, Any]]) -> None:
    if getattr(container, "_filled_with", None) == items:
        return  # unchanged: refresh runs on every state change
    container._filled_with = list(items)
    container.clear_widgets()
    for values in items:
        bar = Factory.MealChoice()
        for name, value in values.items():
            setattr(bar, name, value)
        container.add_widget(bar)
