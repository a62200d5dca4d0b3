"""What every feature's request bodies share (each feature keeps its own ``schemas.py``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Bodies refuse unknown fields so typos are reported, not ignored."""

    model_config = ConfigDict(extra="forbid")
