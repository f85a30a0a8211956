"""The words a page's template says, in one language: the dashboard's and the showcase's (Jinja, autoescaped)."""
from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from bot.policy.i18n import Translator


def words(tr: Translator) -> dict[str, Any]:
    """What a template says its words with, in `tr`'s language: `_` and `ngettext` (whose parameters are
    escaped, and whose result is markup, so a message may hold a link built in the template)."""
    def safe(params: dict[str, Any]) -> dict[str, Any]:
        return {key: escape(value) for key, value in params.items()}

    return {
        "lang": tr.locale.replace("_", "-"),
        "_": lambda message, **params: Markup(tr.gettext(message, **safe(params))),
        "ngettext": lambda singular, plural, n, **params: Markup(tr.ngettext(singular, plural, n, **safe(params))),
        "number": tr.number,
        "date": lambda day: tr.date(day) if day else "—",
    }
