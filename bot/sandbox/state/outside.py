"""The outside services the evidence pack reads, as the sandbox serves them (`api/outside.py`): what OpenSSF
Scorecard has scored, the packages deps.dev, pypistats and npm know (versions, dependents, downloads), and
each service's trouble — latency (slept outside the lock), an error status, or silence past any timeout."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

SERVICES = ("scorecard", "depsdev", "pypistats", "npm")


@dataclass
class Package:
    """A package on a registry: its versions' dependents (deps.dev) and its downloads in 30 days."""

    system: str  # pypi | npm
    name: str
    dependents: dict[str, tuple[int, int]] = field(default_factory=dict)  # version -> (all, direct)
    month: int = 0


@dataclass(frozen=True)
class ServiceTrouble:
    latency_ms: int = 0
    status: int | None = None  # answer every request with this status (e.g. 500)


class OutsideServices:
    """The sandbox's part that keeps the outside services' data, trouble and requests."""

    lock: threading.RLock
    _scorecards: dict[str, dict]
    _packages: dict[tuple[str, str], Package]
    _trouble: dict[str, ServiceTrouble]
    outside_log: list[tuple[str, str]]  # (service, path) of every request

    def score_project(self, repo: str, score: float, checks: dict[str, int] | None = None,
                      date: datetime | None = None) -> None:
        """OpenSSF Scorecard has scored `repo` (OWNER/REPO) with `score` and these checks (name -> 0..10)."""
        with self.lock:
            self._scorecards[repo.lower()] = {"score": score, "checks": dict(checks or {}),
                                              "date": (date or self.now()).strftime("%Y-%m-%d")}  # type: ignore[attr-defined]

    def add_package(self, system: str, name: str, *, version: str = "", dependents: int = 0, direct: int = 0,
                    month: int = 0) -> None:
        """A package the registries know; with `version`, deps.dev knows its dependents."""
        with self.lock:
            key = (system.lower(), _normal(system, name))
            package = self._packages.setdefault(key, Package(system.lower(), name))
            if version:
                package.dependents[version] = (dependents, direct)
            package.month = month

    def trouble(self, service: str, *, latency_ms: int = 0, status: int | None = None) -> None:
        """Make `service` slow (`latency_ms`) or fail (`status`); no arguments: well again."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r} (one of {', '.join(SERVICES)})")
        with self.lock:
            self._trouble[service] = ServiceTrouble(latency_ms, status)

    def trouble_of(self, service: str) -> ServiceTrouble:
        with self.lock:
            return self._trouble.get(service, ServiceTrouble())

    def scorecard_of(self, repo: str) -> dict | None:
        with self.lock:
            return self._scorecards.get(repo.lower())

    def package(self, system: str, name: str) -> Package | None:
        with self.lock:
            return self._packages.get((system.lower(), _normal(system, name)))

    def outside_requests(self, service: str | None = None) -> list[str]:
        """The paths requested of `service` (of every service: "service path")."""
        with self.lock:
            return [path if service else f"{s} {path}" for s, path in self.outside_log if service in (None, s)]


def _normal(system: str, name: str) -> str:
    """PyPI compares names without case, and `-`, `_` and `.` alike (PEP 503); npm names are lower-case."""
    lowered = name.lower()
    return "-".join(filter(None, lowered.replace("_", "-").replace(".", "-").split("-"))) if system.lower() == "pypi" \
        else lowered


__all__ = ["SERVICES", "OutsideServices", "Package", "ServiceTrouble"]
