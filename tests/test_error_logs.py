"""The check behind the autouse `no_error_logged` fixture: what counts as an unexpected error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.error_logs import ErrorRecords, ServerLogs, unexpected


def _record(level: int, message: str) -> logging.LogRecord:
    return logging.makeLogRecord({"levelno": level, "levelname": "x", "msg": message})


def test_errors_count_unless_a_pattern_allows_them() -> None:
    handler = ErrorRecords()
    handler.handle(_record(logging.WARNING, "bad input from a box"))  # below ERROR: ignored
    handler.handle(_record(logging.ERROR, "a push failed"))
    handler.handle(_record(logging.CRITICAL, "database gone"))
    assert len(unexpected(handler.records, [], [])) == 2
    assert [t.split(": ", 1)[1] for t in unexpected(handler.records, [], ["push"])] == [
        "database gone"
    ]


def test_one_record_seen_by_two_loggers_counts_once() -> None:
    handler = ErrorRecords()
    record = _record(logging.ERROR, "Exception in ASGI application")
    handler.handle(record)
    handler.handle(record)
    assert len(handler.records) == 1


def test_server_log_lines_after_the_start_are_read(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("2026-01-01 00:00:00,000 ERROR server.old: before this test\n")
    logs = ServerLogs()
    logs.started(log)
    with log.open("a") as out:
        out.write("2026-01-01 00:00:01,000 INFO server.app: started\n")
        out.write("2026-01-01 00:00:02,000 ERROR server.ws.hub: a push failed\n")
        out.write("Traceback (most recent call last):\n")
        out.write("ERROR:    Exception in ASGI application\n")
    lines = logs.error_lines()
    assert len(lines) == 2
    assert "a push failed" in lines[0] and "Traceback" in lines[0]
    assert unexpected([], lines, ["ASGI"]) == [lines[0]]


@pytest.mark.expect_error_log("^on purpose$")
def test_an_expected_error_passes() -> None:
    logging.getLogger("tests.error_logs").error("on purpose")
