"""People and their standing: accounts (users, bots, organisations), organisation members (public or
not), teams, and collaborators' roles on repositories."""
from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime

from ..model import ROLES, Account, Team


class People:
    """The sandbox's part that knows who is who."""

    lock: threading.RLock
    _accounts: dict[str, Account]  # lower login -> account
    _teams: dict[tuple[str, str], Team]  # (lower org, lower slug) -> team
    _org_members: dict[str, dict[str, bool]]  # lower org -> lower login -> public membership

    def add_user(self, login: str, type: str = "User", *, created_at: datetime | None = None,  # noqa: A002
                 contributions: int = 0, restricted: int = 0) -> None:
        """Register an account (``User``, ``Bot`` or ``Organization``): when it was made, and its contribution
        graph (public contributions, and private ones it counts without showing)."""
        if type not in ("User", "Bot", "Organization"):
            raise ValueError(f"unknown account type {type!r}")
        with self.lock:
            account = self._accounts.get(login.lower())
            if account is None:
                account = self._accounts[login.lower()] = Account(login, self._next_id(), type)
            account.type = type
            account.created_at = created_at or account.created_at
            account.contributions, account.restricted = contributions, restricted

    def known_account(self, login: str) -> Account | None:
        """The account for ``login`` if GitHub knows it (never made up, unlike ``account``)."""
        return self._accounts.get(login.lower())

    def account(self, login: str) -> Account:
        """The account for ``login``; unknown logins become users (``…[bot]`` ones bots)."""
        with self.lock:
            found = self._accounts.get(login.lower())
            if found is None:
                found = Account(login, self._next_id(), "Bot" if login.endswith("[bot]") else "User")
                self._accounts[login.lower()] = found
            return found

    def add_team(self, org: str, slug: str, members: Iterable[str], maintainers: Iterable[str] = ()) -> None:
        with self.lock:
            org_account = self.account(org)
            org_account.type = "Organization"
            roles = {m.lower(): "member" for m in members} | {m.lower(): "maintainer" for m in maintainers}
            for login in roles:
                self.account(login)
            self._teams[(org.lower(), slug.lower())] = Team(self._next_id(), org, slug, roles)

    def team(self, org: str, slug: str) -> Team | None:
        return self._teams.get((org.lower(), slug.lower()))

    def add_org_member(self, org: str, login: str, *, public: bool = True) -> None:
        """`login` a member of the organisation `org`, shown publicly or not."""
        with self.lock:
            self.account(login)
            self._org_members.setdefault(org.lower(), {})[login.lower()] = public

    def is_org_member(self, org: str, login: str) -> bool:
        return login.lower() in self._org_members.get(org.lower(), {}) or \
            any(team.org.lower() == org.lower() and login.lower() in team.members for team in self._teams.values())

    def is_public_member(self, org: str, login: str) -> bool:
        return self._org_members.get(org.lower(), {}).get(login.lower(), False)

    def set_permission(self, repo: str, login: str, permission: str) -> None:
        """Make ``login`` a collaborator with a role (``admin|maintain|write|triage|read|none``)."""
        if permission not in ROLES:
            raise ValueError(f"permission must be one of {ROLES}")
        with self.lock:
            self.account(login)
            self._seed_repo(repo).permissions[login.lower()] = permission
