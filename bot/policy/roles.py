"""Who is who on an application: the one place that decides roles, conflicts and votes. Pure.

Used both for what to read (whose team membership to look up, whose `/assign` names to check)
and for what to decide (which commands a person may give, whose scores and votes count), so the
two can never disagree (SPEC §11).

- **Applicant**: the issue's author and the maintainers the form lists.
- **Reviewer**: the users, teams and trusted `author_association`s of the rules — the stage's own
  `reviewers:` when it narrows them — unless conflicted on this application.
- **Conflicted** (on this application only): its author, a maintainer listed on its form, a
  reviewer who recused themselves, and the owner or a top contributor of the applicant's
  repository (SPEC §14). Being listed on someone's form takes nothing away elsewhere.
- **Funded maintainer**: an applicant of a funded application.
- **Voter**: anyone but bots, the author, conflicted reviewers (recused, or found conflicted), and listed
  maintainers who really are the repository's people — so listing strangers as maintainers cannot
  discard their votes; the rules' `voters:` may narrow it further (`bot.policy.votes`).
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from bot.policy.i18n import N_
from bot.policy.models import Issue
from bot.policy.parsed_form import ParsedForm
from bot.policy.record import Record
from bot.policy.rules import ReviewerRules, Rules


class Role(enum.Enum):
    ANYONE = "anyone"
    APPLICANT = "applicant"
    REVIEWER = "reviewer"
    MAINTAINER = "funded maintainer"


class Conflict(enum.Enum):
    """Why a reviewer does not review an application; the value is the reason in words (a catalogue message)."""

    AUTHOR = N_("the author of this application")
    LISTED = N_("listed as a maintainer on this application")
    RECUSED = N_("recused from this application")
    REPOSITORY = N_("an owner, member or top contributor of the applicant's repository")


def applicant_logins(issue: Issue, form: ParsedForm) -> tuple[str, ...]:
    """The issue's author plus the maintainers named in the form, in that order, without repeats."""
    seen: dict[str, str] = {issue.user.login.lower(): issue.user.login}
    for login in form.maintainers:
        seen.setdefault(login.lower(), login)
    return tuple(seen.values())


def is_applicant(login: str, issue: Issue, form: ParsedForm) -> bool:
    return login.lower() in {a.lower() for a in applicant_logins(issue, form)}


def all_reviewer_rules(rules: Rules) -> tuple[ReviewerRules, ...]:
    """The fund-wide reviewers and every stage's own narrower ones."""
    return (rules.stages.reviewers,) + tuple(s.reviewers for s in rules.stages.stages if s.reviewers)


def all_teams(rules: Rules) -> tuple[str, ...]:
    return tuple(sorted({str(t) for r in all_reviewer_rules(rules) for t in r.teams}))


def _reviewer_by(reviewers: ReviewerRules, login: str, association: str, teams: frozenset[str]) -> bool:
    return (
        login.lower() in reviewers.users
        or association in reviewers.author_associations
        or bool({str(t).lower() for t in reviewers.teams} & {t.lower() for t in teams})
    )


def needs_team_lookup(login: str, association: str, rules: Rules) -> bool:
    """Whether `login`'s team membership could make them a reviewer in some stage where neither
    their login nor their association already does (so it must be looked up, once, cached)."""
    return any(
        r.teams and login.lower() not in r.users and association not in r.author_associations
        for r in all_reviewer_rules(rules)
    )


def conflicts_of(login: str, issue: Issue, form: ParsedForm, record: Record) -> tuple[Conflict, ...]:
    """Why `login` may not review this application (empty when they may)."""
    who = login.lower()
    found = []
    if who == issue.user.login.lower():
        found.append(Conflict.AUTHOR)
    elif who in {m.lower() for m in form.maintainers}:
        found.append(Conflict.LISTED)
    if (who in record.repo_people or who in record.affiliated) and Conflict.AUTHOR not in found:
        found.append(Conflict.REPOSITORY)
    if record.recused(login):
        found.append(Conflict.RECUSED)
    return tuple(found)


@dataclass(frozen=True)
class Standing:
    """One person's roles on one application, and why they may not review it (if so)."""

    roles: frozenset[Role]
    conflicts: tuple[Conflict, ...] = ()
    would_review: bool = False  # a reviewer by the rules, held back only by a conflict

    def has(self, role: Role) -> bool:
        return role in self.roles


def standing(login: str, association: str, issue: Issue, form: ParsedForm, record: Record, rules: Rules,
             teams: Mapping[str, frozenset[str]]) -> Standing:
    """`login`'s roles on this application, in its current stage (teams: login -> "org/slug" teams)."""
    roles = {Role.ANYONE}
    if is_applicant(login, issue, form):
        roles.add(Role.APPLICANT)
        if record.funded:
            roles.add(Role.MAINTAINER)
    reviewer = _reviewer_by(rules.stages.reviewers_for(record.stage), login, association,
                            teams.get(login.lower(), frozenset()))
    conflicts = conflicts_of(login, issue, form, record)
    if reviewer and not conflicts:
        roles.add(Role.REVIEWER)
    return Standing(frozenset(roles), conflicts, reviewer and bool(conflicts))


def assignment_checks_allowed(login: str, association: str, issue: Issue, form: ParsedForm, record: Record,
                              rules: Rules, teams: Mapping[str, frozenset[str]]) -> bool:
    """Whether `/assign` names by `login` may be looked up: only a reviewer's (SPEC §11: the
    permission is checked before any lookup a command needs)."""
    return standing(login, association, issue, form, record, rules, teams).has(Role.REVIEWER)


def stage_reviewer_mentions(rules: Rules, stage: str) -> tuple[str, ...]:
    """The reviewers a stage names (users, then teams), for a reminder."""
    reviewers = rules.stages.reviewers_for(stage)
    return tuple(sorted(reviewers.users)) + tuple(str(t) for t in reviewers.teams)


def voter_exclusion(login: str, is_bot: bool, issue: Issue, form: ParsedForm, record: Record) -> str | None:
    """Why `login`'s reaction is never counted as a vote, whatever the rules say of voters (None: it may be):
    "bot"; "applicant" (the author, and listed maintainers who are the repository's own people — listing a
    stranger discards no vote); "conflicted" (a reviewer who recused, or whom the bot found conflicted)."""
    who = login.lower()
    if is_bot:
        return "bot"
    if who == issue.user.login.lower() or (who in {m.lower() for m in form.maintainers} and who in record.repo_people):
        return "applicant"
    if record.recused(login) or who in record.affiliated or any(c.reviewer.lower() == who for c in record.conflicts):
        return "conflicted"
    return None
