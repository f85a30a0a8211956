"""Where configuration lives: the rules' files, the issue forms the bot reads and their translations,
and a fund's folder of forms."""
from __future__ import annotations

from bot.policy.i18n import LANGUAGES

RULE_FILES = ("stages", "eligibility", "reports", "funding", "fund", "evidence")
# Rule files a server's folder may leave out (it was made before they existed): the shipped ones are used.
OPTIONAL_RULE_FILES = ("evidence",)
APPLICATION_TEMPLATE = "application.yml"
REPORT_TEMPLATE = "progress-report.yml"
FUND_TEMPLATES = ".github/ISSUE_TEMPLATE"


def translations_of(template: str) -> tuple[str, ...]:
    """The file names of a form's translations, one per language: `application.zh.yml` …"""
    stem = template.removesuffix(".yml")
    return tuple(f"{stem}.{language}.yml" for language in LANGUAGES)


#: Every form file the bot reads: each form, then its translations (each one optional).
TEMPLATE_FILES = tuple(name for base in (APPLICATION_TEMPLATE, REPORT_TEMPLATE) for name in (base, *translations_of(base)))
