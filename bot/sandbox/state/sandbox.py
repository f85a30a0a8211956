"""The in-memory GitHub: one ``SandboxState`` made of one part per concern, over stores kept behind one lock.

``SandboxState`` is seeded with plain Python (``add_repo``, ``add_team`` ...), acted on by simulated
people (``open_issue``, ``comment`` ... each returns the webhook delivery GitHub would send), and
served over GitHub's REST paths by ``api/``, which it knows nothing of (``server.Sandbox`` is this state
with its API: ``sandbox.wsgi_app``). Every timestamp, token expiry and rate-limit window comes from one
settable clock, so tests can travel in time.

This module holds what every part shares (the lock, the clock, ids, and the stores, created here);
each part is a module of its own: ``issues``, ``comments``, ``labels``, ``reactions``, ``repos``,
``insights``, ``people``, ``apps``, ``auth``, ``limits``, ``faults``, ``requestlog``, ``outbox`` and
``outside`` (the services beyond GitHub the evidence pack reads); the records they keep are in ``model``.
"""
from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from .. import render
from .apps import Apps
from .auth import Access
from .comments import Comments
from .faults import FaultInjection, Faults
from .insights import Insights
from .issues import Issues
from .labels import Labels
from .limits import ContentLimits, Limits, RateLimits
from .outbox import Outbox
from .outside import OutsideServices
from .people import People
from .reactions import Reactions
from .repos import Repositories
from .requestlog import RequestLog

if TYPE_CHECKING:  # pragma: no cover - types only
    from ..openapi import Checker

UTC = timezone.utc


class SandboxState(Issues, Comments, Labels, Reactions, Repositories, Insights, People, Apps, Access, Limits,
                   FaultInjection, RequestLog, Outbox, OutsideServices):
    """One strict, stateful fake of GitHub's state. Thread-safe: every access holds ``lock``."""

    def __init__(self, now: Callable[[], datetime] | None = None, *, openapi: str | Path | None = None,
                 rate_limits: RateLimits = RateLimits(), content_limits: ContentLimits = ContentLimits()) -> None:
        self.lock = threading.RLock()
        self._clock = now or (lambda: datetime.now(UTC))
        self._offset = timedelta(0)
        self._ids = itertools.count(1001)
        self.api_url = render.EXAMPLE_API  # set by SandboxServer; used for deliveries
        self.checker: Checker | None = None
        if openapi is not None:
            from ..openapi import Checker
            self.checker = Checker.load(openapi)
        # each part's stores (the parts' classes say what each holds)
        self.rate_limits = rate_limits
        self.content_limits = content_limits
        self._buckets = {}
        self._created = {}
        self.faults = Faults()
        self._refusals = []
        self.violations = []
        self._log = []
        self._pending = []
        self.app = None
        self._installations = {}
        self._manifest_codes = {}
        self._tokens = {}
        self._accounts = {}
        self._teams = {}
        self._org_members = {}
        self._repos = {}
        self._repo_names = {}
        self._renamed = {}
        self._blobs = {}
        self._comments = {}
        self._scorecards = {}
        self._packages = {}
        self._trouble = {}
        self.outside_log = []

    # -- clock ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox's current time (UTC, whole seconds as GitHub reports them)."""
        moment = self._clock() + self._offset
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(microsecond=0)

    def travel(self, delta: timedelta) -> None:
        """Move the sandbox clock by ``delta`` on top of whatever clock it was given."""
        with self.lock:
            self._offset += delta

    def _next_id(self) -> int:
        return next(self._ids)

    # -- where rendered URLs point -------------------------------------------------------------

    def urls(self) -> render.Urls:
        return render.Urls(api=self.api_url)
