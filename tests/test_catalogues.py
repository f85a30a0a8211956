"""The message catalogues (SPEC §15): every message the code writes is in the template, and every
catalogue translates every message with the same placeholders — so nobody adds a sentence that one
language lacks. The template is extracted again here with the guide's own `pybabel extract` line
(docs/administrators/languages.md)."""
from __future__ import annotations

import ast
import datetime as dt
import re
import shlex
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from bot.policy.commands import ROLE_WORDS
from bot.policy.i18n import (
    LANGUAGES, LOCALE_DIR, _fill, format_amount, format_date, language_name, language_of, translator,
)
from bot.policy.roles import Role
from deploy_files import PROJECT_ROOT

TEMPLATE = LOCALE_DIR / "messages.pot"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


LANGUAGES_GUIDE = PROJECT_ROOT / "docs" / "administrators" / "languages.md"


def readme_command(program: str) -> list[str]:
    """The languages guide's command line that starts with `program` (the workflow it documents is the
    one tested)."""
    for line in LANGUAGES_GUIDE.read_text(encoding="utf-8").splitlines():
        if line.startswith(program + " "):
            return shlex.split(line.split("#")[0])
    raise AssertionError(f"{LANGUAGES_GUIDE.name} has no `{program}` line")


def catalog(path: Path, locale: str | None = None):
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def keys(messages) -> set[tuple[str | None, object]]:
    return {(m.context, m.id) for m in messages if m.id}


def test_the_template_holds_every_message_of_the_code(tmp_path, monkeypatch):
    argv = readme_command("pybabel extract")
    out = argv.index("-o") + 1
    argv[out] = str(tmp_path / "fresh.pot")
    monkeypatch.chdir(PROJECT_ROOT)
    CommandLineInterface().run(argv)
    fresh, committed = keys(catalog(tmp_path / "fresh.pot")), keys(catalog(TEMPLATE))
    assert fresh - committed == set(), "messages in the code but not in the template: run the pybabel lines of docs/administrators/languages.md"
    assert committed - fresh == set(), "messages in the template no longer in the code: run the pybabel lines of docs/administrators/languages.md"


def messages_in_the_code() -> set[tuple[None, object]]:
    """Every literal message the code passes to `gettext`, `ngettext` or `N_`, found by Python's own
    parser — also where `pybabel extract` does not look (inside f-strings)."""
    found: set[tuple[None, object]] = set()
    for path in (PROJECT_ROOT / "bot").rglob("*.py"):
        if "sandbox" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            texts = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
            if name in ("gettext", "N_") and texts[:1] and texts[0] is not None:
                found.add((None, texts[0]))
            elif name == "ngettext" and len(texts) >= 2 and None not in texts[:2]:
                found.add((None, (texts[0], texts[1])))
    return found


def test_every_message_of_the_code_reaches_the_template():
    assert messages_in_the_code() - keys(catalog(TEMPLATE)) == set()


@pytest.mark.parametrize("locale", sorted(LANGUAGES.values()))
def test_every_catalogue_translates_every_message(locale):
    messages = catalog(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", locale)
    assert keys(messages) == keys(catalog(TEMPLATE)), "run `pybabel update` (docs/administrators/languages.md)"
    fuzzy = [m.id for m in messages if m.id and m.fuzzy]
    assert fuzzy == [], "fuzzy entries are not used: check each one and remove its fuzzy flag"
    untranslated = [m.id for m in messages if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert untranslated == []
    assert not messages.obsolete


@pytest.mark.parametrize("locale", sorted(LANGUAGES.values()))
def test_translations_keep_the_placeholders(locale):
    messages = catalog(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", locale)
    # Babel's own checkers (python-format placeholders and types, the number of plural forms) ...
    problems = [(m.id, [str(e) for e in errors]) for m, errors in messages.check()]
    assert problems == []
    # ... and, stricter than Babel, no placeholder dropped: a figure the English gives is in every language.
    for message in messages:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, (message.id, string)


def test_every_language_is_offered_by_its_own_name():
    assert {language_name(code) for code in LANGUAGES} == {"English", "中文"}
    assert language_of(" 中文 ", "en") == "zh" and language_of("english", "zh") == "en"
    assert language_of("Klingon", "zh") == "zh" and language_of(None, "en") == "en"


def test_every_role_has_words():
    assert set(ROLE_WORDS) == set(Role)


@pytest.mark.parametrize("language, amount, date", [
    ("en", "$50,000", "Nov 2, 2026"),
    ("zh", "US$50,000", "2026年11月2日"),
], ids=["en", "zh"])
def test_amounts_and_dates_are_written_for_the_language(language, amount, date):
    assert format_amount(Decimal("50000"), "USD", language) == amount
    assert format_amount(Decimal("50000.5"), "USD", language) == amount + ".50"  # cents only when there are some
    assert format_date(dt.date(2026, 11, 2), language) == date


def test_a_broken_translation_shows_the_english_rather_than_failing():
    assert _fill("%(missing)s 找不到", "%(repo)s not found", {"repo": "a/b"}) == "a/b not found"
    assert translator("zh").gettext("%(repo)s not found", repo="a/b") == "找不到 a/b"


def test_plurals_follow_the_language():
    en, zh = translator("en"), translator("zh")
    assert [en.ngettext("%(n)s day", "%(n)s days", n) for n in (1, 2)] == ["1 day", "2 days"]
    assert [zh.ngettext("%(n)s day", "%(n)s days", n) for n in (1, 2)] == ["1 天", "2 天"]
    assert en.ngettext("%(n)s day", "%(n)s days", 12345) == "12,345 days"
