"""Plain, frozen data that crosses module boundaries: what GitHub told us, and what we decided.

GitHub's webhook payloads and REST answers share the issue/comment shapes, so one `from_api`
reads both. Nothing here performs I/O.
"""
from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


# What a timestamp GitHub left out falls back to, after the object's other timestamp: a fixed moment,
# never the clock, so that policy stays a pure function of what it is given (the same payload always
# reads the same) — and a missing date reads as long ago, not as just now.
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def parse_time(value: str | None) -> dt.datetime | None:
    """GitHub's ISO-8601 timestamps (`2026-11-25T16:01:56Z`) as aware UTC datetimes."""
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def is_bot(login: str | None, kind: str | None) -> bool:
    """Whether an account is a bot — a GitHub App (`<slug>[bot]`, type `Bot`) or any other: the one test
    used for senders, commenters, voters, contributors and collaborators (SPEC §5: never answer a bot)."""
    return kind == "Bot" or (login or "").endswith("[bot]")


@dataclass(frozen=True)
class User:
    login: str
    type: str = "User"  # "User", "Bot", "Organization"

    @property
    def is_bot(self) -> bool:
        return is_bot(self.login, self.type)

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None) -> "User":
        data = data or {}
        return cls(login=str(data.get("login") or "ghost"), type=str(data.get("type") or "User"))


@dataclass(frozen=True)
class Issue:
    repo: str
    number: int
    title: str
    body: str
    state: str
    user: User
    author_association: str
    labels: tuple[str, ...]
    assignees: tuple[str, ...]
    created_at: dt.datetime
    updated_at: dt.datetime
    comments: int
    is_pull_request: bool
    html_url: str
    reactions_up: int = 0
    reactions_down: int = 0

    def has_label(self, name: str) -> bool:
        return name.lower() in (label.lower() for label in self.labels)

    @classmethod
    def from_api(cls, data: Mapping[str, Any], repo: str) -> "Issue":
        reactions = data.get("reactions") or {}
        created = parse_time(data.get("created_at"))
        updated = parse_time(data.get("updated_at"))
        return cls(
            repo=repo,
            number=int(data["number"]),
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
            state=str(data.get("state") or "open"),
            user=User.from_api(data.get("user")),
            author_association=str(data.get("author_association") or "NONE"),
            labels=tuple(str(label["name"]) for label in data.get("labels") or [] if isinstance(label, Mapping)),
            assignees=tuple(str(a["login"]) for a in data.get("assignees") or [] if isinstance(a, Mapping)),
            created_at=created or updated or EPOCH,  # never the clock: see EPOCH
            updated_at=updated or created or EPOCH,
            comments=int(data.get("comments") or 0),
            is_pull_request="pull_request" in data and data["pull_request"] is not None,
            html_url=str(data.get("html_url") or ""),
            reactions_up=int(reactions.get("+1") or 0),
            reactions_down=int(reactions.get("-1") or 0),
        )


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    user: User
    author_association: str
    created_at: dt.datetime
    html_url: str = ""

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> "Comment":
        return cls(
            id=int(data["id"]),
            body=str(data.get("body") or ""),
            user=User.from_api(data.get("user")),
            author_association=str(data.get("author_association") or "NONE"),
            created_at=parse_time(data.get("created_at")) or parse_time(data.get("updated_at")) or EPOCH,  # see EPOCH
            html_url=str(data.get("html_url") or ""),
        )


@dataclass(frozen=True)
class Reaction:
    content: str  # "+1", "-1", "heart", ...
    user: User
    created_at: dt.datetime | None = None  # None: not known (then never taken for one made after a vote closed)


@dataclass(frozen=True)
class RepoLabel:
    name: str
    color: str
    description: str


class RepoStatus(enum.Enum):
    """What GitHub answered for the repository an application names."""

    OK = "ok"
    NOT_FOUND = "not_found"  # 404: missing, or private and not visible to the App
    ERROR = "error"  # GitHub failed; the sweep re-checks


@dataclass(frozen=True)
class RepoFacts:
    """What eligibility needs to know about a repository (SPEC §3), gathered in ≤3 requests."""

    requested: str
    status: RepoStatus
    full_name: str | None = None  # differs from `requested` when the repository moved (301)
    html_url: str | None = None
    private: bool = False
    archived: bool = False
    default_branch: str | None = None
    pushed_at: dt.datetime | None = None
    licence_spdx: str | None = None  # GitHub's license.spdx_id (may be NOASSERTION)
    licence_key: str | None = None
    empty: bool = False  # 409 on commits or 204 on contributors
    commits_in_window: int | None = None
    last_commit_at: dt.datetime | None = None
    people: int | None = None  # contributors who are not bots (anonymous committers count)
    people_at_least: bool = False  # True when `people` is a lower bound (more pages, or "too large")
    bots: int = 0
    error: str | None = None
    people_logins: tuple[str, ...] = ()  # the owner, then the contributors of the first page (lower-case)
    owner_is_org: bool = False  # the owner is an organisation (its public members are its people too)

    @property
    def moved(self) -> bool:
        return bool(self.full_name) and self.full_name.lower() != self.requested.lower()


# --- Actions: what `decide` asks the executor to do ------------------------------------------


@dataclass(frozen=True)
class UpsertStatusComment:
    """Create the status comment, or edit it in place when its body changed."""

    body: str


@dataclass(frozen=True)
class AddLabels:
    names: tuple[str, ...]


@dataclass(frozen=True)
class RemoveLabel:
    name: str


@dataclass(frozen=True)
class PostComment:
    """A comment posted once: `key` becomes a hidden marker that is looked for before posting."""

    key: str
    body: str
    number: int | None = None  # another issue (a progress report); None: the application


@dataclass(frozen=True)
class React:
    comment_id: int
    content: str = "+1"


@dataclass(frozen=True)
class Assign:
    logins: tuple[str, ...]


@dataclass(frozen=True)
class CloseIssue:
    reason: str = "completed"  # GitHub's state_reason: completed | not_planned
    number: int | None = None  # another issue (a progress report); None: the application


@dataclass(frozen=True)
class DeleteComment:
    """Delete a comment the App wrote (a duplicate status comment left by an older version)."""

    comment_id: int


@dataclass(frozen=True)
class RecordGrant:
    """Enter a grant in the fund's ledger (the fund-state issue), under the fund's lock, before the record."""

    round: str
    number: int
    amount: Decimal
    plan: tuple[Decimal, ...] = ()  # the grant's tranche plan (per cent), kept beside it for a rebuild


@dataclass(frozen=True)
class SetAway:
    """A reviewer away until a day (None: back), in the fund-state issue, under the fund's lock."""

    login: str
    until: dt.date | None


@dataclass(frozen=True)
class RecordAssignment:
    """Reviewers assigned by load at `at`, in the fund-state issue (ties go to whoever waited longest)."""

    logins: tuple[str, ...]
    at: dt.datetime


# What changes the fund-state issue: applied under the fund's lock, before the record.
FundChange = RecordGrant | SetAway | RecordAssignment
FUND_CHANGES = (RecordGrant, SetAway, RecordAssignment)


@dataclass(frozen=True)
class UpsertIssue:
    """An issue the App keeps in a fund's repository (the fund's state, its configuration problems, the
    sweep log), found again by its hidden `marker`: opened when `number` is None, else edited. Policy
    asks for it only when the body or the state differ from what is there."""

    marker: str
    title: str
    body: str
    number: int | None = None
    labels: tuple[str, ...] = ()  # given when opened (the first is how the App lists it again)
    state: str | None = None  # "open" or "closed"; None leaves it
    state_reason: str | None = None  # GitHub's state_reason with "closed"
    changes: tuple[FundChange, ...] = ()  # the fund-state changes it carries (each makes a line)


@dataclass(frozen=True)
class SyncLabel:
    """A label of the rules made to exist as the rules say (`fundbot labels sync`, a new fund): created
    when `current` is None, else the label named `current` renamed, recoloured or described anew."""

    kind: str  # "create", "rename", "adopt", "update"
    name: str
    color: str
    description: str
    current: str | None = None
    current_color: str = ""


Action = (UpsertStatusComment | AddLabels | RemoveLabel | PostComment | React | Assign | CloseIssue | DeleteComment
          | RecordGrant | SetAway | RecordAssignment | UpsertIssue | SyncLabel)
