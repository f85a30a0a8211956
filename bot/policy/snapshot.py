"""What `decide` decides from: everything read from GitHub for one application, under its lock. Pure data.

The pipeline (`bot.jobs.pipeline`) fills it in one pass, with exactly the reads `bot.policy.plan`
named; decide's tables build it by hand.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.policy.assign import ReviewerLoad
from bot.policy.parsed_form import ParsedForm
from bot.policy.fundstate import FundRead
from bot.policy.ledger import FundingLedger
from bot.policy.markers import FoundRecord
from bot.policy.models import Comment, Issue, Reaction, RepoFacts
from bot.policy.record import Record
from bot.policy.votes import VoterFacts


@dataclass(frozen=True)
class Snapshot:
    """What was read from GitHub for one application, under its lock."""

    issue: Issue
    comments: tuple[Comment, ...] = ()
    status_comment: Comment | None = None
    found: FoundRecord = FoundRecord(None, None)
    duplicates: tuple[Comment, ...] = ()  # the App's other status comments (left by older versions)
    repo_facts: RepoFacts | None = None
    reactions: tuple[Reaction, ...] | None = None
    team_members: Mapping[str, frozenset[str]] = field(default_factory=dict)  # login -> "org/slug" teams
    assignable: Mapping[str, bool] = field(default_factory=dict)
    ledger: FundingLedger | None = None
    posted: frozenset[str] = frozenset()  # keys of the one-off comments the App already posted
    form: ParsedForm | None = None  # the issue body read as the application form (read here if None)
    collaborators: tuple[str, ...] | None = None  # people to remind when a stage names no one
    affiliations: Mapping[str, bool] = field(default_factory=dict)  # login -> public member of the repo's org
    load: ReviewerLoad | None = None  # for assignment by load, when the application may enter such a stage
    seal_key: bytes | None = None  # signs the record (None: unsigned, as in decide's tables)
    fund: FundRead | None = None  # the fund-state issue, when a change to it may be decided (under the fund's lock)
    voters: Mapping[str, VoterFacts] = field(default_factory=dict)  # lower-case login -> what GitHub said of them
    away: frozenset[str] = frozenset()  # reviewers away today (read when a reminder is due)

    @property
    def record(self) -> Record | None:
        return self.found.record
