"""`anxin-server [run|demo|migrate|create-admin]`: start the server, seed the demo world,
migrate only, or add an administrator (``create-admin --email E --name N [--lang zh|en]``)."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import shutil
import subprocess
import sys

import uvicorn

from protocol import Lang
from server.admins import AdminRefused, check_new_admin, create_admin
from server.app import FEATURES, create_app
from server.core.config import Settings
from server.demo import DEMO_LOGINS, MEAL_STAFF_DEMO, seed_demo
from server.features import demo_seeds
from server.migrate import upgrade
from server.runtime import Runtime
from server.scheduler import quiet_scheduler_logs
from server.web.i18n import translate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="anxin-server", description=__doc__)
    parser.add_argument(
        "command", nargs="?", default="run", choices=("run", "demo", "migrate", "create-admin")
    )
    parser.add_argument("--email", help="create-admin: the administrator's e-mail address")
    parser.add_argument("--name", help="create-admin: the administrator's name")
    parser.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="create-admin: their language"
    )
    parser.add_argument("--host", help="address to listen on (ANXIN_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (ANXIN_PORT)")
    parser.add_argument(
        "--no-box",
        action="store_true",
        help="demo: do not open the TV box window even with a display",
    )
    return parser


def _print_demo(settings: Settings, base: str) -> None:
    print(f"\nAnxin demo is running at {base}/  (database: {settings.sqlalchemy_url})")
    print(f"  family page:   {base}/family")
    print(f"  doctor page:   {base}/doctor")
    print(f"  operator page: {base}/operator")
    print(f"  admin pages:   {base}/admin")
    print(f"  meal point:    {base}/meals/kitchen")
    print(f"  area meals:    {base}/meals/area")
    print("  logins:")
    for login in DEMO_LOGINS:
        print(f"    {login.role.value:<12} {login.email:<22} password: {login.password}")
    meals = MEAL_STAFF_DEMO
    print(f"    {meals.role.value:<12} {meals.email:<22} password: {meals.password}")
    print(f"  a TV box: anxin-tvbox --server {base}\n", flush=True)


def _start_box(base: str) -> subprocess.Popen[bytes] | None:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("  (no display: the TV box window is not opened)", flush=True)
        return None
    exe = shutil.which("anxin-tvbox")
    cmd = [exe] if exe else [sys.executable, "-m", "tvbox"]
    return subprocess.Popen([*cmd, "--server", base])


def _read_password() -> tuple[str, str]:
    """The new password, twice: asked at a terminal, else two lines of standard input."""
    if sys.stdin.isatty():
        return getpass.getpass("Password: "), getpass.getpass("Password again: ")
    first, second = sys.stdin.readline(), sys.stdin.readline()
    return first.rstrip("\r\n"), second.rstrip("\r\n")


def _create_admin(rt: Runtime, args: argparse.Namespace) -> int:
    if not args.email or not args.name:
        print("anxin-server create-admin: --email and --name are needed", file=sys.stderr)
        return 2
    password, repeat = _read_password()
    try:
        check_new_admin(args.email, args.name, password, repeat)
        with rt.db.session() as db:
            user = create_admin(
                db,
                email=args.email,
                name=args.name,
                password=password,
                lang=Lang(args.lang),
                first=False,
            )
            user_id, email = user.id, user.email
    except AdminRefused as err:
        message = translate(Lang.EN, err.key, **err.values)
        print(f"anxin-server create-admin: refused: {message}", file=sys.stderr)
        return 2
    print(f"created administrator {email} (user {user_id}) in {rt.settings.sqlalchemy_url}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `anxin-server` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_scheduler_logs()
    try:
        settings = Settings()
    except ValueError as err:
        print(f"anxin-server: bad settings: {err}", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(settings.log_level)
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    rt = Runtime.from_settings(settings)
    upgrade(rt.db.engine)
    if args.command == "migrate":
        print(f"database is up to date: {settings.sqlalchemy_url}")
        return 0
    if args.command == "create-admin":
        code = _create_admin(rt, args)
        rt.db.dispose()
        return code
    box = None
    if args.command == "demo":
        with rt.db.session() as db:
            seed_demo(db, demo_seeds(FEATURES))
        base = f"http://{settings.host}:{settings.port}"
        _print_demo(settings, base)
        if not args.no_box:
            box = _start_box(base)
    try:
        uvicorn.run(
            create_app(runtime=rt),
            host=settings.host,
            port=settings.port,
            log_level="info",
            # Sockets: the protocol's own heartbeats find dead peers, so no extra pings;
            # messages are small JSON, and per-socket deflate state costs ~100 kB of memory
            # and CPU per message for thousands of boxes.
            ws_ping_interval=None,
            ws_per_message_deflate=False,
            # Hard cap: a frame over this closes the socket (1009) before it is buffered
            # whole. Frames between the protocol's 64 KiB and this get an `error` reply.
            ws_max_size=settings.ws_max_frame_bytes,
        )
    finally:
        if box is not None:
            box.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
