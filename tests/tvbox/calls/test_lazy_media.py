"""An idle box does not carry aiortc and PyAV: the call media layer loads on the first call."""

from __future__ import annotations

import subprocess
import sys

from tests.support.live_server import ROOT

PROBE = """
import sys
from tvbox.calls.lazy_media import LazyCallMedia
media = LazyCallMedia()
media.stop()
assert media.stats() == {}
assert not media.loaded
print("aiortc" in sys.modules, "av" in sys.modules)
media._real()
print(media.loaded, "aiortc" in sys.modules)
"""


def test_media_layer_loads_only_when_a_call_needs_it() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "True", "True"]
