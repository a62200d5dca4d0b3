"""Fixtures for media tests (ICE tests are marked `netns`; see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from media.config import MediaSettings
from media.loopback import restore_host_candidates


@pytest.fixture
def loopback_settings() -> MediaSettings:
    """Settings for calls inside a loopback-only namespace (no devices, no ICE servers)."""
    return MediaSettings(host_candidates_loopback_only=True, use_devices=False, ice_servers=[])


@pytest.fixture(autouse=True)
def _restore_aioice() -> Iterator[None]:
    # The loopback-candidate patch is process-wide: undo it so no test depends on order.
    yield
    restore_host_candidates()
