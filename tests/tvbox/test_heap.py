"""Freed heap goes back to the OS: what glibc keeps behind live blocks leaves the box's RSS."""

from __future__ import annotations

import subprocess
import sys

from tests.support.live_server import ROOT

# 64 MB in 4 KB blocks (malloc'd, below glibc's mmap threshold), then all but every 64th
# freed: the survivors pin the heap's top, so glibc alone keeps the freed pages resident.
PROBE = """
def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) / 1024

from tvbox.heap import release_free_heap
blocks = [bytearray(4096) for _ in range(16384)]
survivors = blocks[::64]
del blocks
before = rss_mb()
assert release_free_heap()
print(round(before - rss_mb()))
"""


def test_release_returns_freed_heap_to_the_os() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 40, f"only {out.stdout.strip()} MB of 63 MB freed went back"
