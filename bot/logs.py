"""Structured log lines, one line per record: `key=value` text (the default) or one JSON object.

`FUNDBOT_LOG_FORMAT` chooses (`Settings.log_format`): `text` reads well in a terminal,
`time level logger message key=value ...`; `json` is for log collectors, one object per line with
`time`, `level`, `logger`, `message` and the context keys. Callers pass context in `extra`
(`delivery`, `event`, `installation`, `repo`, `issue`, `outcome`, ...), the same keys in both formats.
Nothing that could hold a secret (tokens, keys, payloads) is ever put in a record.
"""
from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import sys
from typing import Any

# The `extra` keys rendered, in this order.
CONTEXT_KEYS = ("delivery", "event", "action", "installation", "repo", "issue", "outcome", "status", "reason",
                "requests", "elapsed_ms")


class LogFormat(enum.Enum):
    TEXT = "text"
    JSON = "json"


def context(record: logging.LogRecord) -> dict[str, Any]:
    """The context keys a record carries (those passed in `extra` and not None)."""
    return {key: value for key in CONTEXT_KEYS if (value := getattr(record, key, None)) is not None}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record)} {record.levelname} {record.name} {record.getMessage()}"
        pairs = [f"{key}={value}" for key, value in context(record).items()]
        if pairs:
            line += " " + " ".join(pairs)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a traceback is the string field `exception`)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            # UTC with milliseconds, as ISO 8601: collectors parse it without being told a format.
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **context(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # default=str: a context value of an unexpected type must not lose the line.
        return json.dumps(line, ensure_ascii=False, default=str)


FORMATTERS: dict[LogFormat, type[logging.Formatter]] = {LogFormat.TEXT: KeyValueFormatter,
                                                        LogFormat.JSON: JsonFormatter}


def configure_logging(level: str = "INFO", log_format: LogFormat = LogFormat.TEXT) -> None:
    """Send fundbot's records to stderr, one line each, in `log_format` (idempotent: called again,
    it changes the level and the format of the one handler it installed)."""
    logger = logging.getLogger("fundbot")
    logger.setLevel(level)
    handler = next((h for h in logger.handlers if getattr(h, "_fundbot", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._fundbot = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    handler.setFormatter(FORMATTERS[log_format]())
