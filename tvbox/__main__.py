"""Command line: ``python -m tvbox --server URL [--data-dir DIR] [--lang zh|en] [--size WxH]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from protocol import Lang
from tvbox.config import BoxConfig, parse_size


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; every option overrides the matching ANXIN_BOX_ setting."""
    parser = argparse.ArgumentParser(prog="anxin-tvbox", description="Anxin TV box")
    parser.add_argument("--server", help="server base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--data-dir", help="directory of the box's own SQLite file")
    parser.add_argument("--lang", choices=[lang.value for lang in Lang], help="default language")
    parser.add_argument("--size", type=_size, help="window size, e.g. 1920x1080 or 1280x720")
    parser.add_argument("--fullscreen", action="store_true", default=None)
    parser.add_argument("--local-api-port", type=int, help="127.0.0.1 port of the local API")
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="lowest level logged (default: ANXIN_BOX_LOG_LEVEL, else INFO)",
    )
    return parser.parse_args(argv)


def _size(text: str) -> str:
    try:
        parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err
    return text


def keep_within_data_dir(data_dir: Path) -> None:
    """Point Kivy's home and the caches of Kivy, Mesa and fontconfig into the box's data dir
    (unless set already), so the box writes nothing under the user's home. Before Kivy loads."""
    for name, path in (
        ("KIVY_HOME", data_dir / "kivy"),
        ("XDG_CACHE_HOME", data_dir / "cache"),
        ("MESA_SHADER_CACHE_DIR", data_dir / "cache"),  # Mesa adds mesa_shader_cache/
        # Without a login session's runtime dir, PulseAudio's client links one from
        # ~/.config/pulse; a session (XDG_RUNTIME_DIR set) keeps it there, untouched.
        *(
            [("PULSE_RUNTIME_PATH", data_dir / "pulse")]
            if "XDG_RUNTIME_DIR" not in os.environ
            else []
        ),
    ):
        if name not in os.environ:
            path.mkdir(parents=True, exist_ok=True)  # Kivy makes its home's last part only
            os.environ[name] = str(path.resolve())


def configure_logging(level: str) -> None:
    """One handler, on the root logger, at ``level``; Kivy logs through it. Before Kivy loads.

    Kivy's default mode adds its own console and file handlers next to ours, so every line
    came out twice (and a log file appeared in Kivy's home): in PYTHON mode it only logs.
    """
    os.environ["KIVY_LOG_MODE"] = "PYTHON"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per reminder tick


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``anxin-tvbox``."""
    args = parse_args(argv)
    overrides: dict[str, Any] = {
        "server_url": args.server,
        "data_dir": args.data_dir,
        "lang": args.lang,
        "size": args.size,
        "fullscreen": args.fullscreen,
        "local_api_port": args.local_api_port,
        "log_level": args.log_level,
    }
    config = BoxConfig(**{k: v for k, v in overrides.items() if v is not None})
    keep_within_data_dir(config.data_dir)
    configure_logging(config.log_level)

    from tvbox.app import run_box  # imports Kivy: only once the arguments are known good

    asyncio.run(run_box(config))


if __name__ == "__main__":
    main()
