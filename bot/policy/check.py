"""`fundbot check` decided and said: a repository's eligibility before anyone applies, from the facts
gathered for it, in the fund's language — lines for a person, or JSON.

Pure: the CLI gathers the facts (`bot.github.facts.repo_facts`), passes `now`, and prints what
`render_check` returns. The findings are the status comment's (`Note`s), and worded as there — except
where that wording speaks of the application's issue, which does not exist yet: those have words of
their own for the command line (`<code>.cli` in `bot.policy.wording`).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from bot.policy.eligibility import CHECK_TITLES, evaluate_repository
from bot.policy.i18n import Translator, translator
from bot.policy.models import RepoFacts
from bot.policy.record import CheckResult, Note
from bot.policy.rules import EligibilityRules
from bot.policy.wording import TEXTS, describe


@dataclass(frozen=True)
class CheckReport:
    """A repository's checks, under its name as GitHub has it (the new one when it moved)."""

    repository: str
    checks: tuple[CheckResult, ...]

    @property
    def eligible(self) -> bool:
        return all(c.ok for c in self.checks)


def check_repository(requested: str, facts: RepoFacts, licence: str | None, rules: EligibilityRules,
                     now: dt.datetime) -> CheckReport:
    """The repository's checks (`requested`: OWNER/NAME as asked; `licence`: the one the user would declare)."""
    return CheckReport(facts.full_name or requested, evaluate_repository(facts, licence, rules, now))


def _say(note: Note | None, tr: Translator) -> str:
    """`note` in words for the command line: its `.cli` wording when it has one (there is no issue to edit)."""
    if note is not None and f"{note.code}.cli" in TEXTS:
        note = Note(f"{note.code}.cli", note.params)
    return describe(note, tr)


def render_check(report: CheckReport, language: str, *, as_json: bool = False, reads: int = 0,
                 not_modified: int = 0) -> str:
    """The report in `language`: a line per check for a person, or JSON (with the requests it cost)."""
    tr = translator(language)
    if as_json:
        return json.dumps({
            "repository": report.repository, "eligible": report.eligible,
            "checks": [{"check": c.id, "ok": c.ok, "figure": _say(c.figure, tr), "detail": _say(c.detail, tr),
                        "warning": _say(c.warning, tr)} for c in report.checks],
            "requests": {"reads": reads, "not_modified": not_modified},
        }, indent=2, ensure_ascii=False)
    lines = [tr.gettext("%(repository)s: eligible", repository=report.repository) if report.eligible else
             tr.gettext("%(repository)s: not eligible", repository=report.repository)]
    for c in report.checks:
        title = tr.gettext(CHECK_TITLES[c.id]) if c.id in CHECK_TITLES else c.id
        lines.append(f"  {'✅' if c.ok else '❌'} {title}: {_say(c.figure, tr)}")
        if not c.ok and c.detail:
            lines.append(f"      {_say(c.detail, tr)}")
        if c.warning:
            lines.append(f"      ⚠️ {_say(c.warning, tr)}")
    lines.append("  " + tr.gettext("(the form's own checks — clear goals, completeness — run when you apply)"))
    return "\n".join(lines)
