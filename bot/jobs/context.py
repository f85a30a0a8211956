"""What one process shares across the deliveries and sweeps it handles: the server's rules, the App's
GitHub access, the clock, the locks, the caches — built once, from the settings, at start-up.

With Redis configured (`FUNDBOT_REDIS_URL`), the per-application locks and the pacing of content writes
are shared by every process and machine through it; without it they are in memory.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from bot.config.funds import Funds
from bot.github.app import GitHubApp
from bot.github.gateway import GitHubGateway
from bot.github.members import TeamCache
from bot.jobs.evidence_read import PackCache
from bot.github.voters import VoterCache
from bot.jobs.locks import LocalLocks, Locks
from bot.outside.client import Client, Services
from bot.policy.rules import Rules
from bot.policy.seal import record_key
from bot.config.settings import Settings


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Context:
    """What handlers share for the life of the process. `rules` are the server's; each fund's own are
    `funds.config(gateway, repo).rules`."""

    rules: Rules
    github: GitHubApp
    clock: Callable[[], dt.datetime] = utc_now
    teams: TeamCache = field(default_factory=TeamCache)
    voters: VoterCache = field(default_factory=VoterCache)  # what was read of voters, for the rules' `voters:`
    locks: Locks = field(default_factory=LocalLocks)
    sweep_logs: dict[str, Any] = field(default_factory=dict)  # repo -> the sweep log this process last saw
    digests: dict[str, str] = field(default_factory=dict)  # repo -> the ISO week this process last wrote its digest for
    funds: Funds = None  # type: ignore[assignment]  # made from `rules` when not given
    seal_key: bytes | None = None  # seals records (derived from the App's private key); None: unsealed
    seal_previous: tuple[bytes, ...] = ()  # from GITHUB_PRIVATE_KEY_PREVIOUS: still accepted while rotating
    outside: Client = field(default_factory=Client)  # the evidence pack's outside services (bot.outside)
    packs: PackCache = field(default_factory=PackCache)  # evidence packs read, per repository (bot.jobs.evidence)
    # Queues an evidence pack's follow-up (fund repo, issue, installation): the in-process queue, or RQ in a
    # worker; None (the CLI): read at once.
    later: Callable[[str, int, int | None, str | None], bool] | None = None
    sleep: Callable[[float], None] = time.sleep  # waits between a statistics endpoint's 202s

    def __post_init__(self) -> None:
        if self.funds is None:
            self.funds = Funds(self.rules)

    def fund_rules(self, gateway: GitHubGateway, repo: str) -> Rules | None:
        """The rules `repo` is run by, or None when it is not a fund (or has no valid configuration)."""
        return self.funds.config(gateway, repo).rules


def connect(url: str) -> Redis:
    """A Redis client that fails fast: the web tier answers 503 rather than hang on a lost Redis."""
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)


def build_context(settings: Settings, rules: Rules, *, github: GitHubApp | None = None,
                  clock: Callable[[], dt.datetime] | None = None, redis: Any = None) -> Context:
    """The context a process handles deliveries and sweeps with: locks and the pacing of content
    writes shared through Redis when it is configured (every process), in memory otherwise."""
    if redis is None and settings.redis_url:
        redis = connect(settings.redis_url)
    locks: Locks = LocalLocks()
    pacer = None
    if redis is not None:
        from bot.github.pacing import Limits, RedisPacer
        from bot.jobs.redis_locks import RedisLocks

        locks = RedisLocks(redis, timeout=settings.lock_timeout)
        pacer = RedisPacer(redis, Limits.under(*settings.content_limits))
    seal_key = record_key(settings.private_key) if settings.has_app else None
    previous = (record_key(settings.private_key_previous),) if seal_key and settings.private_key_previous else ()
    # The configuration's TTL runs on the process's clock when one is given (the sandbox's, which tests move
    # on), else on the monotonic clock.
    monotonic = (lambda: clock().timestamp()) if clock is not None else time.monotonic
    return Context(rules=rules, github=github or GitHubApp(settings, pacer=pacer), clock=clock or utc_now,
                   locks=locks,
                   funds=Funds(rules, narrow_to=settings.repo, ttl=settings.config_ttl, seal_key=seal_key,
                               seal_previous=previous, monotonic=monotonic),
                   seal_key=seal_key, seal_previous=previous,
                   outside=Client(Services(settings.scorecard_url, settings.depsdev_url, settings.pypistats_url,
                                           settings.npm_url)))
