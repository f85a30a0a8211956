"""The rules of votes, voters, leads and approvals as typed, frozen structures (SPEC §14). Pure.

`bot.config.rules_build` builds them from `stages.yml` (`vote:`, `voters:`, `leads:`) and `funding.yml`
(`approvals:`); `bot.policy.rules` holds them in its stages and funding. Their defaults change nothing:
a community vote without `vote:` counts as before, `voters: {who: anyone}` counts everyone but bots,
the application's own people and conflicted reviewers, and one approval makes a grant.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal


class VoteClose(enum.Enum):
    AUTO = "auto"  # at max_days, by itself
    MANUAL = "manual"  # by a reviewer's `/close-vote` (or at max_days, when given)


@dataclass(frozen=True)
class VoteWindow:
    """A community vote's window: it opens when the application enters the stage (`opens: on_entry`)."""

    min_days: int = 0
    max_days: int | None = None
    close: VoteClose = VoteClose.AUTO

    def earliest_close(self, opened: dt.datetime) -> dt.datetime:
        """When the vote may close (and the stage be left) at the earliest."""
        return opened + dt.timedelta(days=self.min_days)

    def closes_at(self, opened: dt.datetime) -> dt.datetime | None:
        """When the vote closes by itself (None: only `/close-vote` or leaving the stage closes it)."""
        return opened + dt.timedelta(days=self.max_days) if self.max_days else None


class VoterKind(enum.Enum):
    ANYONE = "anyone"
    MEMBERS = "members"  # of an organisation
    TEAM = "team"
    ESTABLISHED = "established"  # an account old enough, with enough public contributions


@dataclass(frozen=True)
class VoterRules:
    """Whose reactions count in a community vote, beyond those that never count."""

    who: VoterKind = VoterKind.ANYONE
    org: str = ""  # MEMBERS
    team: str = ""  # TEAM: "org/slug"
    min_account_days: int = 0  # ESTABLISHED
    min_contributions: int = 0  # ESTABLISHED

    @property
    def looked_up(self) -> bool:
        """Whether each voter must be looked up on GitHub (anyone needs nothing read)."""
        return self.who is not VoterKind.ANYONE


@dataclass(frozen=True)
class LeadRules:
    """Who a stalled stage's reminder escalates to, and how long after the first reminder."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()  # "org/slug"
    after_days: int = 7

    @property
    def mentions(self) -> tuple[str, ...]:
        return self.users + self.teams


@dataclass(frozen=True)
class ApprovalRules:
    """How many distinct reviewers must agree before money moves (`approvals:` in funding.yml)."""

    grant: int = 1
    tranche: int = 1
    above: Decimal | None = None  # `grant` applies only to grants above this amount

    def for_grant(self, amount: Decimal) -> int:
        """The approvals a grant of `amount` needs."""
        return self.grant if self.above is None or amount > self.above else 1


__all__ = ["ApprovalRules", "LeadRules", "VoteClose", "VoteWindow", "VoterKind", "VoterRules"]
