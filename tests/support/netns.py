"""Run tests marked `netns` inside their own loopback-only network namespace.

Any test where ICE runs (aiortc, Chromium, TURN) must not see the host's interfaces: it
runs in a fresh network namespace holding only `lo`. This module makes that automatic.

Wire it up in a conftest.py (self-contained, so it can be hoisted to tests/conftest.py)::

    from tests.support.netns import netns_runtest_protocol, netns_loopback_guard  # noqa: F401

    pytest_runtest_protocol = netns_runtest_protocol  # the hook, found by its name
    netns_guard = netns_loopback_guard                # autouse fixture, found by its name

How it works:

* Outside a namespace (no `ANXIN_IN_NETNS=1` in the environment), a `netns` test is not run
  in this process at all, not even its fixtures: `pytest_runtest_protocol` re-runs just that
  node id as ``unshare -n -- sh -c 'ip link set lo up && exec python -m pytest <nodeid>
  -p no:cacheprovider'`` with `ANXIN_IN_NETNS=1`, and reports the inner outcome as the
  outer test's: passed, skipped (with the inner reason) or failed (with the inner output).
* Inside (flag set), the test runs normally; the autouse guard first checks that the
  namespace really holds only `lo` and that 127.0.0.1 carries traffic, so a leaked flag
  can never run ICE on the host's network.

Needs root (or user namespaces) and util-linux `unshare` plus iproute2 `ip`; without them
the tests fail with the inner error, they are never silently skipped.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

IN_NETNS_ENV = "ANXIN_IN_NETNS"
INNER_TIMEOUT_S = 600
_SKIP_REASON = re.compile(r"^SKIPPED \[\d+\] [^:]+:\d+: (.*)$", re.MULTILINE)


def in_netns() -> bool:
    """Whether this process was started by `netns_command` (flag only; see the guard)."""
    return os.environ.get(IN_NETNS_ENV) == "1"


def netns_command(argv: list[str]) -> list[str]:
    """`argv` wrapped to run in a new network namespace with `lo` up."""
    return ["unshare", "-n", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "netns", *argv]


def netns_env() -> dict[str, str]:
    """This process's environment plus the in-namespace flag."""
    return {**os.environ, IN_NETNS_ENV: "1"}


def network_interfaces() -> list[str]:
    """Names of the interfaces of *this* namespace (if_nameindex asks the kernel, not /sys)."""
    return sorted(name for _, name in socket.if_nameindex())


def loopback_carries_traffic() -> bool:
    """Whether a UDP datagram to 127.0.0.1 arrives (false while `lo` is down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        try:
            sock.bind(("127.0.0.1", 0))
            sock.sendto(b"ping", sock.getsockname())
            return sock.recv(16) == b"ping"
        except OSError:
            return False


def _run_inside(item: pytest.Item) -> None:
    argv = [sys.executable, "-m", "pytest", item.nodeid, "-p", "no:cacheprovider", "-q", "-rA"]
    try:
        proc = subprocess.run(
            netns_command(argv),
            cwd=item.config.rootpath,
            env=netns_env(),
            capture_output=True,
            text=True,
            timeout=INNER_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"inside netns: timed out after {err.timeout} s\n{err.stdout}", pytrace=False)
    output = f"{proc.stdout}\n{proc.stderr}".strip()
    if proc.returncode == 0:
        last_line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        if "passed" not in last_line and "skipped" in last_line:
            reason = _SKIP_REASON.search(proc.stdout)
            pytest.skip(f"inside netns: {reason.group(1) if reason else last_line}")
        return
    pytest.fail(f"inside netns: exit {proc.returncode}\n{output}", pytrace=False)


@pytest.hookimpl(tryfirst=True)
def netns_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """pytest_runtest_protocol: re-run `netns` tests in a namespace; None lets pytest run others."""
    if item.get_closest_marker("netns") is None or in_netns():
        return None
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    phases = (
        ("setup", lambda: None),
        ("call", lambda: _run_inside(item)),
        # Tear down what the previous item left for us but nextitem does not need
        # (pytest does this in every item's teardown; private API, stable since pytest 7).
        ("teardown", lambda: item.session._setupstate.teardown_exact(nextitem)),
    )
    for when, run in phases:
        call = pytest.CallInfo.from_call(
            run,
            when=when,  # type: ignore[arg-type]
            reraise=(pytest.exit.Exception, KeyboardInterrupt),  # Ctrl-C stops the run
        )
        report = ihook.pytest_runtest_makereport(item=item, call=call)
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


@pytest.fixture(autouse=True)
def netns_loopback_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Inside a namespace, refuse to run a `netns` test unless only a working `lo` exists."""
    if request.node.get_closest_marker("netns") is not None and in_netns():
        interfaces = network_interfaces()
        assert interfaces == ["lo"], f"netns test sees interfaces {interfaces}, expected ['lo']"
        assert loopback_carries_traffic(), "lo is not up inside the network namespace"
    yield
