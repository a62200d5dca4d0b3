"""Restrict aioice host candidates to 127.0.0.1, for loopback-only network namespaces.

aioice's `get_host_addresses()` drops 127.0.0.1 (RFC 8445 says loopback candidates are not
to be gathered), so inside `unshare -n` with only `lo` up it finds no address at all and
no call can connect. Tests, the benchmark and a single-host demo therefore switch the
gathering to loopback only.

This is the one place that patches aioice. `Connection.gather_candidates()` looks the
function up as a module global of `aioice.ice` each time, so replacing that global is
enough (the usual approach for aiortc users, see aiortc/aioice issue #2, "Finer local
candidate address selection", still open). The patch is process-wide and idempotent;
`restore_host_candidates()` undoes it.
"""

from __future__ import annotations

import aioice.ice

LOOPBACK_ADDRESS = "127.0.0.1"

_original_get_host_addresses = aioice.ice.get_host_addresses


def _loopback_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    # IPv6 ::1 is left out on purpose: one candidate per component keeps checks short.
    return [LOOPBACK_ADDRESS] if use_ipv4 else []


def use_loopback_host_candidates() -> None:
    """Make every ICE agent in this process gather host candidates on 127.0.0.1 only."""
    aioice.ice.get_host_addresses = _loopback_host_addresses


def restore_host_candidates() -> None:
    """Undo `use_loopback_host_candidates()`: gather on the real interfaces again."""
    aioice.ice.get_host_addresses = _original_get_host_addresses


def loopback_host_candidates_enabled() -> bool:
    """Whether host candidates are currently restricted to loopback."""
    return aioice.ice.get_host_addresses is _loopback_host_addresses
