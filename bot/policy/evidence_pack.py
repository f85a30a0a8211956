"""The evidence pack as it is kept: what was read about an applicant's repository, from where, and when —
or why a figure could not be read. Pure data, with its compact JSON form (the record keeps the pack read
at application and the latest one, `bot.policy.record.Evidence`).

A figure is never guessed: a source that is switched off, did not answer, knows nothing of the project or
refused (a fork's community profile, a huge repository's statistics) leaves a `Reading` with a `gap` code
and its parameters, put in words by `bot.policy.evidence_view`. This module imports nothing of the bot, so
the record can hold packs without an import cycle.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(dt.timezone.utc)


# The indicators, in the order they are shown, and where each is read.
INDICATORS = ("community", "commits", "contributors", "responsiveness", "releases", "stars", "scorecard",
              "dependents", "pypi_downloads", "npm_downloads")
SOURCES = {"community": "github", "commits": "github", "contributors": "github", "responsiveness": "github",
           "releases": "github", "stars": "github", "scorecard": "scorecard", "dependents": "deps.dev",
           "pypi_downloads": "pypistats", "npm_downloads": "npm"}


# What a registry takes as a package's name, and a version (PyPI: PEP 508's names; npm: its package names).
PYPI_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,198}[A-Za-z0-9])?")
NPM_NAME = re.compile(r"(?:@[a-z0-9~-][a-z0-9._~-]{0,100}/)?[a-z0-9~-][a-z0-9._~-]{0,213}")
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}")


@dataclass(frozen=True)
class PackageRef:
    """A package of the project on a registry the evidence pack reads: named on the form (`packages`,
    `bot.policy.answers.parse_packages`) or declared in the repository (pyproject.toml, package.json)."""

    system: str  # "pypi" | "npm"
    name: str
    version: str = ""  # "": not known (deps.dev counts the dependents of a version)

    def __str__(self) -> str:
        return f"{self.system}:{self.name}" + (f"@{self.version}" if self.version else "")

    @property
    def valid(self) -> bool:
        """A name (and version) the registry could have: anything else is never sent to a service."""
        pattern = PYPI_NAME if self.system == "pypi" else NPM_NAME if self.system == "npm" else None
        return pattern is not None and bool(pattern.fullmatch(self.name)) and \
            (not self.version or bool(VERSION.fullmatch(self.version)))


@dataclass(frozen=True)
class Reading:
    """One indicator as read: its figures (JSON scalars and short lists), or why there are none."""

    key: str  # one of INDICATORS
    figures: Mapping[str, Any] = field(default_factory=dict)
    gap: str = ""  # why it was not measured ("off", "timeout", "unknown", "computing", "too_large" …); "" when read
    detail: Mapping[str, Any] = field(default_factory=dict)  # the gap's parameters (seconds, status, package …)

    @property
    def source(self) -> str:
        return SOURCES.get(self.key, "github")

    @property
    def ok(self) -> bool:
        return not self.gap

    def figure(self, name: str) -> Any:
        return self.figures.get(name) if not self.gap else None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"k": self.key}
        if self.figures:
            data["f"] = dict(self.figures)
        if self.gap:
            data["g"] = self.gap
        if self.detail:
            data["d"] = dict(self.detail)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Reading":
        return cls(str(data["k"]), dict(data.get("f") or {}), str(data.get("g") or ""), dict(data.get("d") or {}))


@dataclass(frozen=True)
class Pack:
    """What one reading of the evidence found, for one repository at one moment."""

    repository: str  # OWNER/REPO as read (GitHub's name for it, after a move)
    at: dt.datetime  # when it was read (UTC)
    readings: tuple[Reading, ...] = ()
    notes: tuple[str, ...] = ()  # about the repository as a whole: "archived", "fork", "empty"
    gap: str = ""  # nothing could be read: "not_found", "private", "unreadable"
    detail: Mapping[str, Any] = field(default_factory=dict)
    requests: int = 0  # GitHub requests the reading cost (the outside services: one each at most)

    def reading(self, key: str) -> Reading | None:
        return next((r for r in self.readings if r.key == key), None)

    def figure(self, key: str, name: str) -> Any:
        """One figure, or None when it was not read."""
        found = self.reading(key)
        return found.figure(name) if found is not None else None

    def about(self, repository: str) -> bool:
        return self.repository.lower() == repository.lower()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"repo": self.repository, "at": _iso(self.at)}
        if self.readings:
            data["r"] = [r.to_json() for r in self.readings]
        if self.notes:
            data["n"] = list(self.notes)
        if self.gap:
            data["g"] = self.gap
        if self.detail:
            data["d"] = dict(self.detail)
        if self.requests:
            data["q"] = self.requests
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Pack":
        return cls(repository=str(data["repo"]), at=_time(data["at"]),
                   readings=tuple(Reading.from_json(r) for r in data.get("r") or ()),
                   notes=tuple(str(n) for n in data.get("n") or ()), gap=str(data.get("g") or ""),
                   detail=dict(data.get("d") or {}), requests=int(data.get("q") or 0))


@dataclass(frozen=True)
class Ask:
    """Someone wants the evidence read again: a progress report (`report`, its ref) or `/evidence`
    (`command`, the comment's id). Answered by a reply with the change since the application."""

    kind: str  # "report" | "command"
    ref: str  # the report's ref ("comment:<id>", "issue:<n>") or the comment's id
    at: dt.datetime
    by: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "at": _iso(self.at), "by": self.by}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Ask":
        return cls(str(data["kind"]), str(data["ref"]), _time(data["at"]), str(data.get("by") or ""))


@dataclass(frozen=True)
class Evidence:
    """An application's evidence: the pack read when it applied, the newest pack, and who waits for one."""

    first: Pack | None = None  # at application (for the repository it now applies with)
    latest: Pack | None = None
    asks: tuple[Ask, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.first is not None:
            data["first"] = self.first.to_json()
        if self.latest is not None and self.latest != self.first:
            data["latest"] = self.latest.to_json()  # the same pack is kept once
        if self.asks:
            data["asks"] = [a.to_json() for a in self.asks]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> "Evidence | None":
        if not data:
            return None
        first = Pack.from_json(data["first"]) if data.get("first") else None
        latest = Pack.from_json(data["latest"]) if data.get("latest") else first
        return cls(first, latest, tuple(Ask.from_json(a) for a in data.get("asks") or ()))


__all__ = ["INDICATORS", "SOURCES", "Ask", "Evidence", "Pack", "PackageRef", "Reading"]
