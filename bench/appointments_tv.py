"""The TV part of the appointments benchmark: Appointments tile key press → list on screen.

The real Kivy app (offscreen at 1080p, as on a TV box without a GPU) with five visits in its
store: the remote's 3 key is dispatched exactly as SDL2 delivers it, and the time until the
window has drawn and flipped a frame showing the visit list is taken; Back goes home between
presses. The first press also builds the screen (screens are built when first shown). Run in
its own process by ``bench/appointments.py`` (Kivy owns the process's window); prints one
JSON line: ``{"tv_tile_to_list_p50_ms": …, "tv_tile_to_list_p99_ms": …, "tv_presses": …}``.

Usage: ``python bench/appointments_tv.py [--presses 100]``
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.tv_tile import run  # noqa: E402
from protocol import Appointments, ElderInfo, Lang, VisitInfo, VisitPlace  # noqa: E402
from tvbox.appointments.store import VisitStore  # noqa: E402
from tvbox.config import BoxConfig  # noqa: E402
from tvbox.store import BoxStore  # noqa: E402
from tvbox.ui.keys import RemoteAction  # noqa: E402


def seed(config: BoxConfig) -> None:
    store = BoxStore(config.store_path)
    store.save_pairing(
        1, "token-1", ElderInfo(id=1, name="王秀英", lang=Lang.ZH, timezone="Asia/Shanghai")
    )
    start = datetime.now(UTC) + timedelta(days=1)
    VisitStore(store).save_visits(
        Appointments(
            elder_id=1,
            travel_minutes=30,
            visits=[
                VisitInfo(
                    id=i + 1,
                    starts_at=start + timedelta(days=i),
                    ends_at=start + timedelta(days=i, minutes=15),
                    place=VisitPlace.CLINIC,
                    clinic_name="安心社区卫生服务中心",
                    doctor_name="王建国医生",
                    department_name="全科",
                    timezone="Asia/Shanghai",
                )
                for i in range(5)
            ],
        )
    )
    store.close()


if __name__ == "__main__":
    asyncio.run(run(__doc__.splitlines()[0], seed, RemoteAction.DIGIT_3, "appointments"))
