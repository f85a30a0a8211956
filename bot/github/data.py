"""The plain frozen data the gateway returns besides policy's models (`bot.policy.models`): never lazy
PyGithub objects, so the core can never trigger a hidden request."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.policy.models import User


@dataclass(frozen=True)
class CommitWindow:
    count: int
    newest_at: dt.datetime | None


@dataclass(frozen=True)
class ContributorPage:
    """The first page of contributors (bots told apart), and whether more pages exist."""

    contributors: tuple[User, ...]
    more: bool
    empty: bool = False  # 204: the repository has no commits
    too_large: bool = False  # 403: GitHub will not list them; there are plenty


@dataclass(frozen=True)
class RepoFile:
    """A file of a repository's default branch: its path, git blob sha, size and text (None when GitHub
    does not send its content: a file over 1 MB)."""

    path: str
    sha: str
    text: str | None
    size: int = 0


@dataclass(frozen=True)
class RepoInfo:
    full_name: str
    html_url: str
    private: bool
    archived: bool
    default_branch: str
    pushed_at: dt.datetime | None
    licence_spdx: str | None
    licence_key: str | None
    owner_is_org: bool = False
    fork: bool = False
    parent: str = ""  # a fork's parent (OWNER/REPO)
    stars: int = 0  # stargazers_count
    size: int = 0  # kilobytes; 0 for an empty repository
