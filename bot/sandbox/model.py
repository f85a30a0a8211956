"""The records the sandbox's state is made of: accounts, repositories, issues, comments, labels,
reactions, commits, the App and its installations. Mutable, and only touched under the sandbox's lock;
what may be done with them is in the state's modules of each concern (``state/issues.py``,
``state/labels.py`` ...), and how GitHub shows them in ``render.py`` and ``deliveries.py``. This module
imports nothing of the sandbox: everything else is built on it."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

ROLES = ("none", "read", "triage", "write", "maintain", "admin")


@dataclass(eq=False)
class Account:
    login: str
    id: int
    type: str = "User"  # User | Bot | Organization
    created_at: datetime | None = None  # None: long ago (GitHub's example account's day)
    contributions: int = 0  # public contributions in any year asked about (the contribution graph)
    restricted: int = 0  # private contributions the graph counts but cannot show


@dataclass(eq=False)
class Label:
    id: int
    name: str
    color: str
    description: str | None = None
    default: bool = False


@dataclass(eq=False)
class Reaction:
    id: int
    user: Account
    content: str
    created_at: datetime


@dataclass(eq=False)
class Comment:
    id: int
    issue: Issue
    user: Account
    body: str
    created_at: datetime
    updated_at: datetime
    via_app: bool = False
    reactions: list[Reaction] = field(default_factory=list)


@dataclass(eq=False)
class Issue:
    id: int
    repo: Repo
    number: int
    title: str
    body: str | None
    user: Account
    created_at: datetime
    updated_at: datetime
    via_app: bool = False
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: Account | None = None
    locked: bool = False
    label_ids: list[int] = field(default_factory=list)
    assignees: list[Account] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    pull_request: bool = False  # a pull request (GitHub lists them among the issues)
    merged_at: datetime | None = None

    def labels(self) -> list[Label]:
        """The issue's labels, sorted by name as GitHub lists them."""
        found = [self.repo.labels[i] for i in self.label_ids if i in self.repo.labels]
        return sorted(found, key=lambda lab: lab.name.lower())


@dataclass(eq=False)
class Commit:
    sha: str
    date: datetime
    author: Account
    message: str


@dataclass(eq=False)
class Release:
    id: int
    tag: str
    author: Account
    created_at: datetime
    published_at: datetime | None  # None: a draft
    prerelease: bool = False


@dataclass(eq=False)
class Contributor:
    name: str
    type: str  # User | Bot | Anonymous
    contributions: int

    @property
    def email(self) -> str:
        return f"{self.name.lower().replace(' ', '.')}@example.com"


class Memberships(Protocol):
    """What a repository asks of the GitHub it is on (the sandbox's state): who belongs to an organisation."""

    def is_org_member(self, org: str, login: str) -> bool: ...


@dataclass(eq=False)
class Repo:
    id: int
    owner: Account
    name: str
    created_at: datetime
    updated_at: datetime
    sandbox: Memberships
    private: bool = False
    archived: bool = False
    default_branch: str = "main"
    description: str | None = None
    license_spdx: str | None = None
    license_key: str | None = None
    license_name: str | None = None
    empty: bool = False
    contributors_too_large: bool = False
    topics: tuple[str, ...] = ()
    commits: list[Commit] = field(default_factory=list)  # newest first
    contributors: list[Contributor] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    labels: dict[int, Label] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    deleted_issues: set[int] = field(default_factory=set)  # numbers of issues deleted here
    transferred_issues: dict[int, Issue] = field(default_factory=dict)  # old number -> the issue, now elsewhere
    permissions: dict[str, str] = field(default_factory=dict)  # lower login -> role
    parent: "Repo | None" = None  # a fork's parent
    stars: list[tuple[Account, datetime]] = field(default_factory=list)  # oldest first, as GitHub lists them
    releases: list[Release] = field(default_factory=list)
    stats_pending: dict[str, int] = field(default_factory=dict)  # statistics endpoint -> 202s still to answer
    commit_count: int = 0  # commits beyond those modelled one by one (a history of 10,000 or more)

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def open_issue_count(self) -> int:
        return sum(1 for i in self.issues.values() if i.state == "open")

    def next_issue_number(self) -> int:
        """GitHub never reuses a number, not even a deleted or transferred issue's."""
        return max([*self.issues, *self.deleted_issues, *self.transferred_issues], default=0) + 1

    def find_label(self, name: str) -> Label | None:
        """Label names are case-insensitive on GitHub."""
        wanted = name.lower()
        return next((lab for lab in self.labels.values() if lab.name.lower() == wanted), None)

    def role(self, login: str) -> str:
        """The user's role here: explicit, else admin for the owner, else read if public."""
        lowered = login.lower()
        if lowered in self.permissions:
            return self.permissions[lowered]
        if lowered == self.owner.login.lower():
            return "admin"
        return "none" if self.private else "read"

    def can(self, login: str, role: str) -> bool:
        return ROLES.index(self.role(login)) >= ROLES.index(role)

    def association(self, account: Account) -> str:
        """``author_association``: https://docs.github.com/graphql/reference/enums#commentauthorassociation"""
        lowered = account.login.lower()
        if lowered == self.owner.login.lower():
            return "OWNER"
        if self.owner.type == "Organization" and self.sandbox.is_org_member(self.owner.login, account.login):
            return "MEMBER"
        if self.permissions.get(lowered, "none") != "none":
            return "COLLABORATOR"
        if any(c.type != "Anonymous" and c.name.lower() == lowered for c in self.contributors):
            return "CONTRIBUTOR"
        return "NONE"


@dataclass(eq=False)
class Installation:
    id: int
    account: Account
    repo_ids: set[int]
    created_at: datetime


@dataclass(eq=False)
class App:
    id: int
    slug: str
    name: str
    public_key: Any
    bot: Account
    owner: Account
    created_at: datetime
    permissions: Mapping[str, str] | None = None  # None: the sandbox's default App (render_apps.APP_PERMISSIONS)
    events: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Token:
    value: str
    login: str | None = None  # a personal token's user
    installation_id: int | None = None
    expires_at: datetime | None = None


@dataclass(eq=False)
class Team:
    id: int
    org: str
    slug: str
    members: dict[str, str]  # lower login -> role (member | maintainer)
