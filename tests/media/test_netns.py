"""The netns mechanism itself: marked tests really run in a namespace with only `lo`, and
the outer run reports the inner outcome (with the inner output on failure)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.netns import IN_NETNS_ENV, network_interfaces

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.netns
def test_marked_test_runs_in_a_namespace_with_only_loopback() -> None:
    assert os.environ.get(IN_NETNS_ENV) == "1"
    assert network_interfaces() == ["lo"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        # There is no route out of the namespace: any non-loopback address is unreachable.
        with pytest.raises(OSError):
            sock.connect(("192.0.2.1", 9))


def test_outer_run_reports_inner_pass_skip_and_failure_with_output(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            from tests.support.netns import netns_loopback_guard, netns_runtest_protocol
            pytest_runtest_protocol = netns_runtest_protocol
            netns_guard = netns_loopback_guard
            """
        )
    )
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            import pytest, socket

            @pytest.mark.netns
            def test_passes():
                assert [n for _, n in socket.if_nameindex()] == ["lo"]

            @pytest.mark.netns
            def test_skips():
                pytest.skip("no camera in here")

            @pytest.mark.netns
            def test_fails():
                assert "inner-marker" == "different"
            """
        )
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    netns: in a namespace\n")
    env = {k: v for k, v in os.environ.items() if k != IN_NETNS_ENV}
    env["PYTHONPATH"] = str(REPO_ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout
    assert proc.returncode == 1, out
    assert "1 failed, 1 passed, 1 skipped" in out.splitlines()[-1]
    assert "inside netns: no camera in here" in out
    assert "inner-marker" in out  # the inner assertion is shown in the outer failure
