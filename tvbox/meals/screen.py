"""The meals screens: what is ordered and tomorrow's menu, an order's choices, the set meals.

Each shows one `PageView` of the meals controller: a title, a body, up to six
numbered choices and a hint.
"""

from __future__ import annotations

from tvbox.box import AppViewModel
from tvbox.meals.controller import MealsController
from tvbox.ui.widgets import ChoicePage


class MealPage(ChoicePage):
    """One meals screen; shows the meals controller's page view while it is on screen."""

    def refresh(self, vm: AppViewModel) -> None:
        """Copy the controller's page view in (only while shown)."""
        if vm.screen.value != self.name:
            return
        control = vm.router.owner(vm.screen)
        assert isinstance(control, MealsController)
        self.show(control.page(vm.screen))


class MealsScreen(MealPage):
    """The Meals tile: what is ordered, and tomorrow's menu."""


class MealOrderScreen(MealPage):
    """One order: keep, change, cancel or skip."""


class MealMenuScreen(MealPage):
    """Another set meal for an order."""
