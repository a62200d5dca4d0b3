"""The API's plan bodies and the wire's plan share one definition of each field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from protocol import PlanInfo
from server.reminders.schemas import PlanCreate, PlanPublic, PlanUpdate

# The medicine's name is stricter in the API (trimmed, never blank): see the schemas module.
SHARED = ["strength", "dose", "instructions", "appearance", "colour", "window_minutes"]


def _field(model: type[BaseModel], name: str) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")["properties"][name]
    if "anyOf" in schema:  # an update's optional field: the non-null branch
        (schema,) = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return schema
    return {k: v for k, v in schema.items() if k not in ("default", "title")}


@pytest.mark.parametrize("model", [PlanCreate, PlanUpdate, PlanPublic])
@pytest.mark.parametrize("name", SHARED)
def test_api_plan_fields_accept_what_the_wire_accepts(model: type[BaseModel], name: str) -> None:
    assert _field(model, name) == _field(PlanInfo, name)


def test_defaults_are_the_wires() -> None:
    for name in SHARED:
        assert PlanCreate.model_fields[name].default == PlanInfo.model_fields[name].default
