"""Pacing the App's content-creating requests under GitHub's secondary limits, per installation.

GitHub allows at most 80 content-generating requests a minute and 500 an hour (creating comments and
issues: https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits);
past them it answers 403 and may block the App for a while. A deadline rush of a few hundred
applications would pass them, so every comment or issue the App creates first asks the pacer for a
slot in its installation's windows and waits until there is one (SPEC §13).

The status comment goes first: it may use the whole budget (under GitHub's limits by a margin), while
less urgent writes — replies, reminders, the sweep's issues — stop short of it, so a burst of
reminders never delays the answer an applicant is waiting for. With Redis the windows are shared by
every process of every machine (one sorted set per installation, checked and taken in one Lua
script); without it, by this process's threads.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Limits:
    """How many content-creating requests a window allows: urgent (the status comment) and the rest."""

    minute: int = 70  # GitHub: 80
    hour: int = 450  # GitHub: 500
    minute_other: int = 50
    hour_other: int = 350
    minute_seconds: float = 60.0  # the windows' lengths (tests shorten them)
    hour_seconds: float = 3600.0

    def of(self, urgent: bool) -> tuple[int, int]:
        return (self.minute, self.hour) if urgent else (self.minute_other, self.hour_other)

    @classmethod
    def under(cls, per_minute: int, per_hour: int) -> "Limits":
        """Windows under a GitHub that allows `per_minute` and `per_hour` (github.com: 80 and 500; a
        GitHub Enterprise Server's administrator sets its own): the status comment keeps 7/8 and 9/10
        of them, the rest 5/8 and 7/10 — 70/450 and 50/350 on github.com."""
        return cls(minute=max(1, per_minute * 7 // 8), hour=max(1, per_hour * 9 // 10),
                   minute_other=max(1, per_minute * 5 // 8), hour_other=max(1, per_hour * 7 // 10))


class Pacer(Protocol):
    def try_take(self, scope: str, urgent: bool) -> float:
        """Take a slot now and return 0, or take nothing and return the seconds until one frees up."""


def wait_for_slot(pacer: Pacer, scope: str, urgent: bool, sleep: Callable[[float], None] = time.sleep,
                  longest: float = 3600.0) -> float:
    """Block until `pacer` gives `scope` a slot; return how long it waited."""
    waited = 0.0
    while (wait := pacer.try_take(scope, urgent)) > 0:
        if waited >= longest:
            break
        step = min(wait, 5.0)  # look again: another writer's slot may have been given back sooner
        sleep(step)
        waited += step
    return waited


class LocalPacer:
    """The windows of this process's threads."""

    def __init__(self, limits: Limits = Limits(), clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._taken: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def try_take(self, scope: str, urgent: bool) -> float:
        per_minute, per_hour = self.limits.of(urgent)
        with self._lock:
            now = self._clock()
            taken = self._taken.setdefault(scope, deque())
            while taken and taken[0] <= now - self.limits.hour_seconds:
                taken.popleft()
            in_minute = [t for t in taken if t > now - self.limits.minute_seconds]
            wait = 0.0
            if len(in_minute) >= per_minute:
                wait = max(wait, in_minute[len(in_minute) - per_minute] + self.limits.minute_seconds - now)
            if len(taken) >= per_hour:
                wait = max(wait, taken[len(taken) - per_hour] + self.limits.hour_seconds - now)
            if wait > 0:
                return wait
            taken.append(now)
            return 0.0


# KEYS[1]: the installation's sorted set of slots (score: seconds). ARGV: per minute, per hour, the
# windows' lengths, a unique member. Redis's clock, so every machine agrees.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local minute, hour = tonumber(ARGV[1]), tonumber(ARGV[2])
local mlen, hlen = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - hlen)
local wait = 0
local in_minute = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - mlen), '+inf', 'WITHSCORES')
local m = #in_minute / 2
if m >= minute then
  wait = math.max(wait, tonumber(in_minute[(m - minute) * 2 + 2]) + mlen - now)
end
local h = redis.call('ZCARD', KEYS[1])
if h >= hour then
  local oldest = redis.call('ZRANGE', KEYS[1], h - hour, h - hour, 'WITHSCORES')
  wait = math.max(wait, tonumber(oldest[2]) + hlen - now)
end
if wait > 0 then
  return tostring(wait)
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('EXPIRE', KEYS[1], math.ceil(hlen) + 60)
return '0'
"""


class RedisPacer:
    """The windows shared by every process through Redis."""

    def __init__(self, redis, limits: Limits = Limits()) -> None:  # noqa: ANN001 - a redis.Redis client
        self.limits = limits
        self._take = redis.register_script(_TAKE)

    def try_take(self, scope: str, urgent: bool) -> float:
        per_minute, per_hour = self.limits.of(urgent)
        answer = self._take(keys=[f"fundbot:pace:{scope}"],
                            args=[per_minute, per_hour, self.limits.minute_seconds, self.limits.hour_seconds,
                                  uuid.uuid4().hex])
        return float(answer)
