"""How the bot shows a person and a day in what it writes, wherever it writes them. Pure."""
from __future__ import annotations

import datetime as dt

from bot.policy.i18n import Translator
from bot.policy.text import escape_inline


def person(login: str) -> str:
    """A login shown without mentioning (notifying) them."""
    return escape_inline("@" + login, 60)


def day(moment: dt.datetime | None, tr: Translator) -> str:
    """The UTC calendar date of a moment, as the language writes dates: dates here are UTC, shown as such."""
    return tr.date(moment.astimezone(dt.timezone.utc).date()) if moment else "—"


__all__ = ["day", "person"]
