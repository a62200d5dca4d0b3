"""A test fails when an ERROR (or CRITICAL) is logged that it did not expect.

An ERROR means a server bug: bad client input is answered with a 4xx or a protocol ``error``
and logged at WARNING at most. Pushes and sweeps that fail only log, so without this check a
test passes over them. What is watched:

- records of this process (every thread: an in-process uvicorn, sweeps, worker threads), from
  the root logger and from ``uvicorn``, which does not propagate when uvicorn configured it;
- the log file of every ``LiveServer`` process started during the test (from where it stood
  when the test started it), read once the server has stopped.

A test that provokes an error on purpose says so with
``@pytest.mark.expect_error_log("regex", ...)``: records whose message (or log line) matches
one of the patterns are allowed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "expect_error_log"
# Lines of `anxin-server` (basicConfig: "<date> <time> ERROR name: ...") and of uvicorn's own
# handlers ("ERROR:    ...").
_LOG_LINE = re.compile(r"^(?:\S+ \S+ (?:ERROR|CRITICAL) |(?:ERROR|CRITICAL):)")
_WATCHED = ("", "uvicorn")  # root, and uvicorn's own tree


class ErrorRecords(logging.Handler):
    """Keeps every ERROR-or-worse record logged while installed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record (once, though it may reach two watched loggers)."""
        if record.levelno >= self.level and not any(r is record for r in self.records):
            self.records.append(record)

    def install(self) -> None:
        """Watch the root logger and uvicorn's."""
        for name in _WATCHED:
            logging.getLogger(name).addHandler(self)

    def remove(self) -> None:
        """Stop watching."""
        for name in _WATCHED:
            logging.getLogger(name).removeHandler(self)


@dataclass
class ServerLogs:
    """Log files of server processes started during one test, and where each started."""

    starts: dict[Path, int] = field(default_factory=dict)

    def started(self, path: Path) -> None:
        """A server begins (or resumes) writing ``path``."""
        size = path.stat().st_size if path.exists() else 0
        self.starts.setdefault(path, size)

    def error_lines(self) -> list[str]:
        """ERROR and CRITICAL lines written since each start, each with what follows it."""
        found = []
        for path, offset in self.starts.items():
            if not path.exists():
                continue
            with path.open("rb") as log:
                log.seek(offset)
                lines = log.read().decode("utf-8", "replace").splitlines()
            for n, line in enumerate(lines):
                if _LOG_LINE.match(line):
                    found.append("\n".join([f"{path.name}: {line}", *lines[n + 1 : n + 6]]))
        return found


# The registry that `LiveServer.start` (tests/support/live_server.py) reports to; the autouse
# fixture resets it.
SERVER_LOGS = ServerLogs()


def unexpected(
    records: list[logging.LogRecord], lines: list[str], patterns: list[str]
) -> list[str]:
    """The logged errors that no pattern allows (searched in a record's message or a server's
    log line), as text for a failure message."""
    allowed = [re.compile(p) for p in patterns]
    left = []
    for record in records:
        message = record.getMessage()
        if not any(p.search(message) for p in allowed):
            left.append(f"{record.levelname} {record.name}: {message}{_exc_text(record)}")
    # A server's line is matched by itself, not by the lines that follow it (its traceback).
    left += [text for text in lines if not any(p.search(text.split("\n")[0]) for p in allowed)]
    return left


def _exc_text(record: logging.LogRecord) -> str:
    if record.exc_info and record.exc_info[1] is not None:
        return f" [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
    return ""
