"""Command line: ``python -m tvbox --server URL [--data-dir DIR] [--lang zh|en] [--size WxH]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
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
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def _size(text: str) -> str:
    try:
        parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err
    return text


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``anxin-tvbox``."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    overrides: dict[str, Any] = {
        "server_url": args.server,
        "data_dir": args.data_dir,
        "lang": args.lang,
        "size": args.size,
        "fullscreen": args.fullscreen,
        "local_api_port": args.local_api_port,
    }
    config = BoxConfig(**{k: v for k, v in overrides.items() if v is not None})

    from tvbox.app import run_box  # imports Kivy: only once the arguments are known good

    asyncio.run(run_box(config))


if __name__ == "__main__":
    main()
