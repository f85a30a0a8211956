"""Memberships — of reviewer teams, and public ones of an applicant's organisation — looked up once
and kept for a while (membership rarely changes): at most one request per person and team in
`ttl_seconds`, shared by every run of the process."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from bot.github.gateway import GitHubGateway


class TeamCache:
    """Memberships (of reviewer teams, and public ones of an applicant's organisation) looked up once
    and kept for a while: membership rarely changes."""

    def __init__(self, ttl_seconds: float = 600, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[tuple[str, str], tuple[bool, float]] = {}
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def _member(self, key: tuple[str, str], look_up: Callable[[], bool]) -> bool:
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None and cached[1] >= self._clock():
            return cached[0]
        member = look_up()
        with self._lock:
            self._entries[key] = (member, self._clock() + self._ttl)
        return member

    def teams_of(self, gateway: GitHubGateway, login: str, teams: Iterable[str]) -> frozenset[str]:
        def look_up(team: str) -> Callable[[], bool]:
            org, slug = team.split("/", 1)
            return lambda: gateway.is_team_member(org, slug, login)

        return frozenset(team for team in teams if self._member((team.lower(), login.lower()), look_up(team)))

    def public_member(self, gateway: GitHubGateway, org: str, login: str) -> bool:
        return self._member((f"org:{org.lower()}", login.lower()), lambda: gateway.is_public_member(org, login))

