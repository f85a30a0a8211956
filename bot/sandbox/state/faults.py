"""Injected trouble: a share of requests answered 502 or with a secondary rate limit (drawn before
anything changes, so a faulted write did nothing), writes carried out but answered 502 (the answer
lost on the way), writes GitHub refuses for good, and latency (slept by the API outside the lock)."""
from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass

from .errors import GitHubError


@dataclass(frozen=True)
class Faults:
    """Injected trouble: a share of requests answered 502 or with a secondary rate limit (decided
    before anything changes, so a faulted write did nothing), and latency on every request."""

    error_rate: float = 0.0
    secondary_rate_limit_rate: float = 0.0
    # A share of writes that are carried out, but answered 502: GitHub sometimes does the work and
    # loses the answer (a client that simply retries a comment posts it twice).
    lost_answer_rate: float = 0.0
    latency_ms: int = 0
    retry_after: int = 1
    seed: int = 0


class FaultInjection:
    """The sandbox's part that decides which requests fail: set ``sandbox.faults`` (the draws are
    deterministic for its seed) or ``refuse`` a method and path for good."""

    lock: threading.RLock
    _faults: Faults
    _random: random.Random
    _refusals: list[tuple[str, str, int, str]]  # (method, path glob, status, message)

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        with self.lock:
            self._faults = value
            self._random = random.Random(value.seed)  # deterministic for a given seed

    def refuse(self, method: str, path_glob: str, status: int = 422, message: str = "Validation Failed") -> None:
        """Answer matching requests with `status` and do nothing, as GitHub refuses some writes for good
        (a body it will not take: 422; a locked issue: 403)."""
        with self.lock:
            self._refusals.append((method.upper(), path_glob, status, message))

    def stop_refusing(self) -> None:
        """GitHub takes every request again (the refusals `refuse` set are gone)."""
        with self.lock:
            self._refusals.clear()

    def refusal(self, method: str, path: str) -> GitHubError | None:
        for m, glob, status, message in self._refusals:
            if m == method and fnmatch.fnmatchcase(path, glob):
                return GitHubError(status, message)
        return None

    def draw_lost_answer(self) -> bool:
        """Decide whether this write, once done, is answered 502 as if it had failed."""
        return bool(self._faults.lost_answer_rate) and self._random.random() < self._faults.lost_answer_rate

    def draw_fault(self) -> str | None:
        """Decide whether this request fails: ``"error"``, ``"secondary"`` or None."""
        f = self._faults
        if not (f.error_rate or f.secondary_rate_limit_rate):
            return None
        roll = self._random.random()
        if roll < f.error_rate:
            return "error"
        if roll < f.error_rate + f.secondary_rate_limit_rate:
            return "secondary"
        return None
