"""The fund's rules as typed, frozen structures, and the pure questions policy asks of them.

`bot.config.rules` reads them from `rules/*.yml`, the issue forms and a fund's `.github/fund-bot.yml`;
nothing here reads the disk.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.policy.form_body import parse_any
from bot.policy.form_template import FormTemplate
from bot.policy.governance_rules import ApprovalRules, LeadRules, VoteWindow, VoterRules
from bot.policy.i18n import LANGUAGES, language_of
from bot.policy.parsed_form import ParsedForm

#: A fund's own rules file, in its repository (`Rules.source_of` names it in public comments).
FUND_FILE = ".github/fund-bot.yml"


class RulesError(Exception):
    """The rules are broken; `errors` holds every problem found, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class LabelSpec:
    name: str
    color: str
    description: str = ""


@dataclass(frozen=True)
class TeamRef:
    org: str
    slug: str

    def __str__(self) -> str:
        return f"{self.org}/{self.slug}"


@dataclass(frozen=True)
class ReviewerRules:
    users: frozenset[str]  # lower-cased logins
    teams: tuple[TeamRef, ...]
    author_associations: frozenset[str]


@dataclass(frozen=True)
class StageSpec:
    name: str
    label: LabelSpec
    next: tuple[str, ...]
    max_days: int | None
    min_scores: int
    community_vote: bool
    decides: bool
    reviewers: ReviewerRules | None  # None: the global reviewers
    assign_count: int = 0  # reviewers assigned by load on entering the stage (0: none)
    min_voters: int = 0  # community vote: people who must have voted before /advance
    min_approval: Decimal | None = None  # community vote: share of 👍 among 👍 + 👎 needed
    vote: VoteWindow | None = None  # community vote: its window (None: open while in the stage, never frozen)
    voters: VoterRules | None = None  # None: the fund's `voters`
    leads: LeadRules | None = None  # a stalled stage's reminder escalates to them


@dataclass(frozen=True)
class OutcomeSpec:
    name: str
    label: LabelSpec
    close_issue: bool


@dataclass(frozen=True)
class Labels:
    application: LabelSpec
    report: LabelSpec
    eligible: LabelSpec
    ineligible: LabelSpec
    needs_info: LabelSpec
    report_due: LabelSpec
    report_overdue: LabelSpec
    bot: LabelSpec  # the issues the App keeps: the sweep log (bot.policy.sweeplog), the fund's state
    round: LabelSpec | None = None  # `{round}` in its name is a round's name; None: rounds are not labelled


@dataclass(frozen=True)
class StageRules:
    stages: tuple[StageSpec, ...]
    outcomes: Mapping[str, OutcomeSpec]
    auto_advance: bool
    reviewers: ReviewerRules
    criteria: tuple[str, ...]
    score_min: int
    score_max: int
    labels: Labels
    voters: VoterRules = VoterRules()
    digest: bool = False  # the sweep keeps a weekly digest of what waits on whom

    @property
    def first(self) -> StageSpec:
        return self.stages[0]

    def stage(self, name: str) -> StageSpec | None:
        return next((s for s in self.stages if s.name == name), None)

    def reviewers_for(self, stage: str | None) -> ReviewerRules:
        spec = self.stage(stage) if stage else None
        return spec.reviewers if spec and spec.reviewers else self.reviewers

    def voters_for(self, stage: str | None) -> VoterRules:
        spec = self.stage(stage) if stage else None
        return spec.voters if spec and spec.voters else self.voters

    def all_labels(self) -> tuple[LabelSpec, ...]:
        """Every label the bot manages, in a stable order."""
        return tuple(spec for _, spec in self.keyed_labels())

    def keyed_labels(self) -> tuple[tuple[str, LabelSpec], ...]:
        """Every label the bot manages with its stable key — `stage:<stage>`, `outcome:<outcome>`,
        `label:<key under stages.labels>` — which stays the same when the rules rename the label, so
        `labels sync` finds it again on GitHub (by the key in its description) and renames it in place."""
        keyed = [(f"stage:{s.name}", s.label) for s in self.stages]
        keyed += [(f"outcome:{name}", o.label) for name, o in self.outcomes.items()]
        keyed += [(f"label:{f}", getattr(self.labels, f)) for f in Labels.__dataclass_fields__
                  if f != "round"]
        return tuple(keyed)

    def stage_by_label(self, label: str) -> StageSpec | None:
        return next((s for s in self.stages if s.label.name.lower() == label.lower()), None)


@dataclass(frozen=True)
class EligibilityRules:
    require_osi_approved: bool
    flag_declared_mismatch: bool
    window_days: int
    min_commits: int
    max_days_since_last_commit: int | None
    archived_fails: bool
    min_contributors: int
    goal_fields: tuple[str, ...]
    goal_min_words: int


@dataclass(frozen=True)
class ReportRules:
    cadence_days: int
    reminder_lead_days: int
    overdue_grace_days: int
    max_reports: int | None
    mention_reviewers: bool
    mention_assignees: bool
    mention_users: tuple[str, ...]
    min_words: int


@dataclass(frozen=True)
class RoundSpec:
    """A funding round: its pool, and (with `rounds:`) the days applications are taken."""

    name: str
    pool: Decimal | None
    opens: dt.date | None = None  # None: `round:` (one round, always open)
    closes: dt.date | None = None
    max_per_project: Decimal | None = None  # None: the fund's


@dataclass(frozen=True)
class FundingRules:
    currency: str
    max_per_project: Decimal
    rounds: tuple[RoundSpec, ...]  # `rounds:`, or the one `round:` (named "default" when unnamed)
    dated: bool = False  # `rounds:` with days: an application filed outside them waits
    tranches: tuple[Decimal, ...] = (Decimal(100),)  # per cent of a grant, released in order
    approvals: ApprovalRules = ApprovalRules()

    def round_on(self, day: dt.date) -> RoundSpec | None:
        """The round an application filed on `day` belongs to (None: outside every round)."""
        if not self.dated:
            return self.rounds[0]
        return next((r for r in self.rounds if r.opens and r.closes and r.opens <= day <= r.closes), None)

    def next_round(self, day: dt.date) -> RoundSpec | None:
        """The first round that opens after `day`."""
        later = [r for r in self.rounds if r.opens and r.opens > day]
        return min(later, key=lambda r: r.opens or day) if later else None

    def round_named(self, name: str) -> RoundSpec | None:
        return next((r for r in self.rounds if r.name == name), None)

    def cap(self, round_name: str) -> Decimal:
        spec = self.round_named(round_name)
        return spec.max_per_project if spec and spec.max_per_project is not None else self.max_per_project

    def pool(self, round_name: str) -> Decimal | None:
        spec = self.round_named(round_name)
        return spec.pool if spec else None

    @property
    def has_pool(self) -> bool:
        return any(r.pool is not None for r in self.rounds)


#: The evidence pack's sources (`evidence.sources` in the rules), GitHub's own first.
EVIDENCE_SOURCES = ("community", "activity", "responsiveness", "releases", "stars", "scorecard", "dependents",
                    "pypi_downloads", "npm_downloads")


@dataclass(frozen=True)
class Threshold:
    """A limit on one figure of the evidence pack (`evidence.thresholds.<key>`)."""

    key: str  # "min_dependents", "max_response_days" …
    value: Decimal
    eligibility: bool  # a check of the screening (waivable like the others); else a warning beside the evidence


@dataclass(frozen=True)
class EvidenceRules:
    """`rules/evidence.yml`: the evidence pack read for every application (issue 21)."""

    enabled: bool = True
    cache_hours: int = 24
    timeout_seconds: float = 3.0
    responsiveness_sample: int = 30
    sources: frozenset[str] = frozenset(EVIDENCE_SOURCES)
    thresholds: tuple[Threshold, ...] = ()

    def on(self, source: str) -> bool:
        return self.enabled and source in self.sources

    @property
    def checks(self) -> tuple[Threshold, ...]:
        """The thresholds that are eligibility checks."""
        return tuple(t for t in self.thresholds if t.eligibility) if self.enabled else ()


@dataclass(frozen=True)
class Rules:
    stages: StageRules
    eligibility: EligibilityRules
    reports: ReportRules
    funding: FundingRules
    # Each form in every language it is offered in: the fund's own (`application.yml`) first, then its
    # translations (`application.zh.yml` …), which have the same fields.
    application_forms: tuple[FormTemplate, ...]
    report_forms: tuple[FormTemplate, ...]
    language: str  # the fund's (`fund.language`): for an application whose form does not say, and the fund's texts
    showcase: bool = True  # `fund.showcase`: `fundbot showcase build` publishes the fund's grants (false: nothing)
    evidence: EvidenceRules = EvidenceRules()
    # What they were built from, so that a fund's `.github/fund-bot.yml` can replace sections of them.
    documents: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)  # section -> server file
    # The keys a fund's files set (`eligibility.community.min_contributors` -> `.github/fund-bot.yml`, or a
    # file its `_extends` names); every other key is the server's (`origins`).
    key_origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def round_label(self, round_name: str) -> LabelSpec | None:
        """The label of an application of `round_name` (None: the rules label no rounds)."""
        template = self.stages.labels.round
        if template is None or not self.funding.dated:
            return None
        return dataclasses.replace(template, name=template.name.replace("{round}", round_name)[:50])

    def keyed_labels(self) -> tuple[tuple[str, LabelSpec], ...]:
        """Every label the bot manages with its stable key (`StageRules.keyed_labels`) and, with dated
        rounds, one per round (`round:<name>`)."""
        rounds = tuple((f"round:{r.name}", label) for r in self.funding.rounds if (label := self.round_label(r.name)))
        return self.stages.keyed_labels() + rounds

    def all_labels(self) -> tuple[LabelSpec, ...]:
        return tuple(spec for _, spec in self.keyed_labels())

    def source_of(self, section: str, key: str = "") -> str:
        """Where a key (or, without one, any key of `section`) is set, as a public comment may name it: the
        fund's own file or a file it extends, or the server's rules (by their name in the project, never a
        path on the server)."""
        path = f"{section}.{key}" if key else section
        found = [origin for k, origin in self.key_origins.items() if k == path or k.startswith(path + ".")
                 or (key and path.startswith(k + "."))]
        return found[-1] if found else f"rules/{section}.yml"

    @property
    def application_form(self) -> FormTemplate:
        return self.application_forms[0]

    @property
    def report_form(self) -> FormTemplate:
        return self.report_forms[0]

    def read_application(self, body: str | None) -> ParsedForm:
        """An issue body read as the application form, in whichever language its headings are."""
        return parse_any(self.application_forms, body)

    def read_report(self, body: str | None) -> ParsedForm:
        """An issue body read as the progress-report form, in whichever language its headings are."""
        return parse_any(self.report_forms, body)

    def language_of(self, form: ParsedForm) -> str:
        """An application's language: its form's `language` answer; without one, the language of the
        form it was filed with when that is a translation (`application.zh.yml`), else the fund's."""
        filed_in = form.template.language if form.template is not None else None
        return language_of(form.answers.get("language"), filed_in if filed_in in LANGUAGES else self.language)

    def application_form_in(self, language: str) -> FormTemplate:
        """The application form in `language` (its labels name the fields in that language's texts);
        the fund's own form when there is no translation into it."""
        return next((f for f in self.application_forms[1:] if f.language == language), self.application_form)

