"""An idle box carries no module it does not need while idle (issue #3: box RSS < 250 MB).

The real ``python -m tvbox`` entry point runs paired, with 50 plans and no server reachable,
until it has tried the server and scheduled its reminders; then it is stopped as the OS
would stop it, and lists the modules it had loaded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

from protocol import ElderInfo, Lang, PlanInfo, Schedule
from tests.support.box import BoxProcess
from tests.support.waiting import wait_until
from tvbox.reminders.store import ReminderStore
from tvbox.store import BoxStore

# The box's own entry point, with a hook that writes sys.modules when the process exits.
LAUNCHER = """
import atexit, os, runpy, sys

def dump():
    with open(os.environ["TEST_MODULES_OUT"], "w") as out:
        out.write("\\n".join(sorted(sys.modules)))

atexit.register(dump)
sys.argv[0] = "tvbox"
runpy.run_module("tvbox", run_name="__main__", alter_sys=True)
"""

# module -> why an idle box must not have it
NOT_WHILE_IDLE = {
    "sqlalchemy": "the reminder job store is stdlib sqlite3",
    "httpx": "only an unpaired box speaks HTTP (pairing)",
    "httpcore": "only an unpaired box speaks HTTP (pairing)",
    "aiortc": "call media load on the first call",
    "av": "call media load on the first call",
    "vosk": "no voice model is configured",
}


def test_an_idle_paired_box_has_not_loaded_heavy_modules(tmp_path: Path) -> None:
    data = tmp_path / "box"
    store = BoxStore(data / "box.sqlite3")
    elder = ElderInfo(id=1, name="B", lang=Lang.EN, timezone="Asia/Shanghai")
    store.save_pairing(1, "token", elder)
    ReminderStore(store).replace_plans(
        [
            PlanInfo(
                id=i + 1,
                medicine=f"Med{i}",
                schedule=Schedule(times=(time(8 + i % 12, 0),), start_date=date(2026, 1, 1)),
                updated_at=datetime.now(UTC),
            )
            for i in range(50)
        ]
    )
    store.close()
    modules_out = tmp_path / "modules.txt"
    box = BoxProcess(
        data,
        "http://127.0.0.1:9",
        "en",
        launcher=("-c", LAUNCHER),
        TEST_MODULES_OUT=str(modules_out),
    )
    try:
        box.start()
        state = box.wait_state("home, paired", screen="home", paired=True)
        assert len(state["plans"]) == 50
        wait_until(lambda: "server link down" in box.log_path.read_text(), 30, "a failed connect")
        wait_until(lambda: (data / "reminder_jobs.sqlite3").exists(), 30, "the reminder jobs")
    finally:
        assert box.stop() == 0, box.log_path.read_text()[-4000:]
    loaded = set(modules_out.read_text().split())
    assert "tvbox.reminders.clock" in loaded and "kivy.core.window" in loaded
    heavy = {name: why for name, why in NOT_WHILE_IDLE.items() if name in loaded}
    assert not heavy, heavy
