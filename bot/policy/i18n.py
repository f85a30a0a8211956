"""Languages (SPEC §15): every text the bot writes comes from gettext catalogues, in English and
Simplified Chinese, and numbers, amounts and dates are formatted for the language by Babel. Pure.

The catalogues are `locale/<locale>/LC_MESSAGES/messages.po` beside this module, managed with
`pybabel extract/update` (README: *Languages*). The `.po` files are the only copy: each is compiled
in memory by Babel's own compiler (`write_mo`, as `pybabel compile` does; fuzzy entries are left
out) the first time a process needs it, so there is no compiled file to forget to rebuild and no
build step beyond the README's install command.

A message is written in code in English, with named placeholders (`%(name)s`, which Babel's
checkers compare between the English and the translation), and translated where it is used:
`translator(language).gettext("… %(x)s …", x=…)`, `ngettext(…)` where a count appears. A message
kept in a table and translated later is marked with `N_` so `pybabel extract` finds it.
"""
from __future__ import annotations

import copy
import functools
import gettext
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.lists import format_list as babel_format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision

#: The languages the bot writes, as the rules name them (`language: en`), and their catalogues' locales.
LANGUAGES: Mapping[str, str] = MappingProxyType({"en": "en", "zh": "zh_Hans"})
#: The language the messages are written in, in code (the catalogues' message ids): tests and logs.
SOURCE = "en"
# The one disk read in policy, and deliberately left here: the catalogues are the package's own data,
# read once per process as importing code is (no fund's or operator's configuration), and every text
# policy writes needs them. Configuration is read in `bot.config`.
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark for extraction, translate later"
    """Mark `message` for the catalogues without translating it here (it is translated where shown)."""
    return message


@functools.cache
def _translations(locale: str) -> gettext.NullTranslations:
    """The catalogue of `locale`, compiled in memory once per process (fuzzy entries left out)."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def locale_of(language: str) -> str:
    """The catalogue locale of a language the rules name; `KeyError` for one the bot does not write."""
    return LANGUAGES[language]


def _fill(text: str, fallback: str, params: Mapping[str, object]) -> str:
    try:
        return text % params
    except (KeyError, ValueError, TypeError):
        return fallback % params  # a broken translation shows the English rather than failing


@dataclass(frozen=True)
class Translator:
    """What the bot says, in one language: messages, and numbers, amounts and dates formatted for it."""

    language: str

    @property
    def locale(self) -> str:
        return locale_of(self.language)

    def gettext(self, message: str, /, **params: object) -> str:
        """`message` in this language, its `%(name)s` placeholders filled from `params`."""
        return _fill(_translations(self.locale).gettext(message), message, params)

    def ngettext(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        """The form for the count `n`; `%(n)s` is the count written for the language."""
        params = {"n": self.number(n), **params}
        chosen = singular if n == 1 else plural
        return _fill(_translations(self.locale).ngettext(singular, plural, n), chosen, params)

    def number(self, value: int | float | Decimal, pattern: str | None = None) -> str:
        return format_number(value, self.language, pattern)

    def amount(self, amount: Decimal, currency: str) -> str:
        return format_amount(amount, currency, self.language)

    def date(self, day: date) -> str:
        return format_date(day, self.language)

    def join(self, items: Iterable[str], style: str = "standard") -> str:
        """Items as a list in words: "a, b and c" ("standard") or "a, b or c" ("or")."""
        items = list(items)
        return babel_format_list(items, style=style, locale=self.locale) if items else ""

    def figures(self, items: Iterable[str]) -> str:
        """Figures one after another, as the language separates them ("a; b; c")."""
        items = list(items)
        return functools.reduce(lambda before, after: self.gettext("%(before)s; %(after)s", before=before,
                                                                   after=after), items[1:], items[0]) if items else ""

    def sentences(self, first: str, *more: str) -> str:
        """Sentences one after another, as the language writes them (a space between them, or none)."""
        return functools.reduce(lambda before, after: self.gettext("%(before)s %(after)s", before=before,
                                                                   after=after), more, first)


_PLACEHOLDER_RE = re.compile(r"%\((\w+)\)s")


@functools.cache
def _pattern(message: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER_RE.split(message)  # text, name, text, name, …, text
    return re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)))


def read_back(text: str, messages: Iterable[str]) -> tuple[str, dict[str, str]] | None:
    """The message of `messages` that `text` is the English of, and its parameters; None for none.

    For words kept as English text (a refused write in the record, a line of the sweep log) that are
    shown again in another language. The message with the most fixed words is tried first, so a
    parameter never swallows another message's words."""
    for message in sorted(messages, key=lambda m: -len(_PLACEHOLDER_RE.sub("", m))):
        match = _pattern(message).fullmatch(text)
        if match:
            return message, match.groupdict()
    return None


@functools.cache
def translator(language: str) -> Translator:
    """The translator of a language the rules name (`en`, `zh`); `KeyError` for any other."""
    locale_of(language)
    return Translator(language)


def format_number(value: int | float | Decimal, language: str, pattern: str | None = None) -> str:
    """A number as the language writes it (`12,345`); `pattern` as Babel's, e.g. `"0.0"`."""
    return format_decimal(value, format=pattern, locale=locale_of(language))


def format_amount(amount: Decimal, currency: str, language: str) -> str:
    """An amount with its currency as the language writes it (`$50,000`, `US$50,000`); cents only
    when there are some."""
    locale = Locale.parse(locale_of(language))
    digits = 0 if amount == amount.to_integral_value() else get_currency_precision(currency)
    pattern = copy.copy(locale.currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return format_currency(amount, currency, format=pattern, locale=locale, currency_digits=False)


def format_date(day: date, language: str) -> str:
    """A calendar date (UTC, as every date here) as the language writes it: `Nov 2, 2026`, `2026年11月2日`."""
    return babel_format_date(day, format="medium", locale=locale_of(language))


def language_name(language: str) -> str:
    """The language's name in itself, from CLDR: `English`, `中文` — the options of the forms' `language`."""
    locale = locale_of(language)
    return Locale.parse(locale).get_language_name(locale) or language


def _key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def language_of(answer: object, default: str) -> str:
    """The language an application form's `language` answer names (`English`, `中文`), else `default`."""
    if isinstance(answer, str):
        wanted = _key(answer)
        for language in LANGUAGES:
            if wanted == _key(language_name(language)):
                return language
    return default
