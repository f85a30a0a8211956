"""Rate limits: GitHub's primary limits per principal and hour, with the ``X-RateLimit-*`` headers
that report them, and its secondary limits on creating content per minute and per hour.
https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - types only
    from .auth import Principal

UTC = timezone.utc


@dataclass(frozen=True)
class RateLimits:
    """Primary rate limits per hour (GitHub's defaults); tests lower them to exhaust them."""

    installation: int = 5000
    user: int = 5000
    app: int = 5000
    anonymous: int = 60


@dataclass(frozen=True)
class ContentLimits:
    """GitHub's secondary limits on creating content (comments, issues) per principal:
    https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"""

    per_minute: int = 80
    per_hour: int = 500
    minute: timedelta = timedelta(minutes=1)  # the windows' lengths (tests shorten them)
    hour: timedelta = timedelta(hours=1)


@dataclass
class Bucket:
    """A principal's primary-limit window: requests counted in it, and when it resets."""

    used: int
    reset: datetime


class Limits:
    """The sandbox's part that counts requests against GitHub's limits."""

    rate_limits: RateLimits
    content_limits: ContentLimits
    _buckets: dict[str, Bucket]  # principal's rate key -> its window
    _created: dict[str, list[datetime]]  # principal's rate key -> when it created content (last hour)
    _offset: timedelta  # the clock's offset (sandbox.py): content windows are timed to the microsecond

    def bucket(self, principal: Principal) -> Bucket:
        """The caller's window: it opens at the first request and resets an hour later."""
        now = self.now()
        found = self._buckets.get(principal.rate_key)
        if found is None or found.reset <= now:
            found = self._buckets[principal.rate_key] = Bucket(0, now + timedelta(hours=1))
        return found

    def rate_headers(self, principal: Principal) -> dict[str, str]:
        bucket = self.bucket(principal)
        return {
            "X-RateLimit-Limit": str(principal.rate_limit),
            "X-RateLimit-Remaining": str(max(0, principal.rate_limit - bucket.used)),
            "X-RateLimit-Used": str(bucket.used),
            "X-RateLimit-Reset": str(int(bucket.reset.timestamp())),
            "X-RateLimit-Resource": "core",
        }

    def created_content(self, principal: Principal) -> str | None:
        """Count one content-creating request of `principal`; the limit it passed, if it did."""
        now = datetime.now(UTC) + self._offset  # to the microsecond: windows may be short in tests
        limits = self.content_limits
        recent = [t for t in self._created.get(principal.rate_key, []) if now - t < limits.hour]
        self._created[principal.rate_key] = recent
        if len([t for t in recent if now - t < limits.minute]) >= limits.per_minute:
            return "minute"
        if len(recent) >= limits.per_hour:
            return "hour"
        recent.append(now)
        return None
