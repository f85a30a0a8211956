"""Structured log lines: `time level logger message key=value ...`, one line per record.

Callers pass context in `extra` (`delivery`, `event`, `repo`, `issue`, ...). Nothing that could
hold a secret (tokens, keys, payloads) is ever put in a record.
"""
from __future__ import annotations

import logging
import sys

# The `extra` keys rendered, in this order.
CONTEXT_KEYS = ("delivery", "event", "action", "repo", "issue", "status", "reason", "requests", "elapsed_ms")


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record)} {record.levelname} {record.name} {record.getMessage()}"
        pairs = [f"{key}={getattr(record, key)}" for key in CONTEXT_KEYS if getattr(record, key, None) is not None]
        if pairs:
            line += " " + " ".join(pairs)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str = "INFO") -> None:
    """Send fundbot's records to stderr in key=value form (idempotent)."""
    logger = logging.getLogger("fundbot")
    logger.setLevel(level)
    if not any(getattr(h, "_fundbot", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(KeyValueFormatter())
        handler._fundbot = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
