"""The API's operations, read from its OpenAPI document (routers are nested in FastAPI)."""

from __future__ import annotations

from typing import Any


def api_operations(app: Any) -> list[tuple[str, str]]:
    """(METHOD, path template) of every documented operation."""
    return [
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]
