"""The evidence pack's figures, computed from what was read (issue 21). Pure: no I/O, no clock (`now` is given).

What GitHub's endpoints answer is turned into plain data by `bot.github.insights`; the figures are made
here, so they are tested as tables: commits and active contributors over 90 days, a bus factor (the fewest
people who made half the commits), the median time to a first response on the newest issues and pull
requests from people outside the project (bots and the author excluded) and the closure ratio of their pull
requests, releases in the last year, stars and their trend, and — between two packs — the change since the
application. Thresholds (`evidence.thresholds` in the rules) measure one figure each (`measure`).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import median
from typing import Any

from bot.policy.evidence_pack import Pack, PackageRef

WINDOW_DAYS = 90  # commits, active contributors, the bus factor and the stars' trend are counted over this
YEAR_DAYS = 365  # releases are counted over this
INSIDERS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})  # author_association of the project's own people
COMMUNITY_FILES = ("readme", "contributing", "code_of_conduct", "license", "issue_template",
                   "pull_request_template", "security")


@dataclass(frozen=True)
class ContributorWeeks:
    """One contributor's commits per week (GitHub's `/stats/contributors`)."""

    login: str
    bot: bool
    weeks: tuple[tuple[dt.date, int], ...]  # (the week's first day, commits)


@dataclass(frozen=True)
class Thread:
    """An issue or a pull request, as GitHub lists it."""

    number: int
    author: str
    bot: bool
    association: str  # author_association: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE …
    created_at: dt.datetime
    pull_request: bool = False
    closed_at: dt.datetime | None = None
    merged_at: dt.datetime | None = None

    @property
    def outside(self) -> bool:
        """Opened by someone outside the project (not its people, not a bot)."""
        return not self.bot and self.association.upper() not in INSIDERS


@dataclass(frozen=True)
class Remark:
    """A comment on an issue or pull request."""

    number: int  # the or pull request's
    author: str
    bot: bool
    created_at: dt.datetime


def bus_factor(commits: Iterable[int]) -> int:
    """The fewest people whose commits make at least half of all commits (0 when there are none)."""
    counts = sorted((c for c in commits if c > 0), reverse=True)
    total, running = sum(counts), 0
    for people, count in enumerate(counts, start=1):
        running += count
        if 2 * running >= total:
            return people
    return 0


def contributors_figures(people: Sequence[ContributorWeeks], now: dt.datetime) -> dict[str, Any]:
    """Active contributors (people with a commit in the window), the bus factor over the window, and how
    many contributors GitHub counts in all (bots are not people)."""
    since = (now - dt.timedelta(days=WINDOW_DAYS)).date()
    recent = {p.login: sum(c for week, c in p.weeks if week >= since) for p in people if not p.bot}
    return {"active": sum(1 for c in recent.values() if c > 0), "bus_factor": bus_factor(recent.values()),
            "total": sum(1 for p in people if not p.bot and any(c for _, c in p.weeks))}


def commits_figures(weekly: Sequence[int]) -> dict[str, Any]:
    """Commits in the window, from GitHub's weekly counts of the last 52 weeks, oldest first
    (`/stats/participation`'s `all`)."""
    weeks = -(-WINDOW_DAYS // 7)  # 13
    return {"count": sum(int(c) for c in weekly[-weeks:])}


def responsiveness_figures(threads: Sequence[Thread], remarks: Iterable[Remark], partial: bool = False
                           ) -> dict[str, Any]:
    """On the issues and pull requests opened by people outside the project: the median hours to a first
    response (a comment by anyone but the author and bots), how many were answered, and of their pull
    requests how many were closed (merged or not) and merged. `partial`: the comments were not all read."""
    outside = [t for t in threads if t.outside]
    first: dict[int, dt.datetime] = {}
    by_number = {t.number: t for t in outside}
    for remark in remarks:
        thread = by_number.get(remark.number)
        if thread is None or remark.bot or remark.author.lower() == thread.author.lower() \
                or remark.created_at < thread.created_at:
            continue
        if remark.number not in first or remark.created_at < first[remark.number]:
            first[remark.number] = remark.created_at
    hours = [(first[t.number] - t.created_at).total_seconds() / 3600 for t in outside if t.number in first]
    pulls = [t for t in outside if t.pull_request]
    figures: dict[str, Any] = {
        "outside": len(outside), "answered": len(hours),
        "median_hours": round(median(hours), 1) if hours else None,
        "prs": len(pulls), "prs_closed": sum(1 for t in pulls if t.closed_at), "prs_merged": sum(1 for t in pulls if t.merged_at),
    }
    if partial:
        figures["partial"] = True
    return figures


def releases_figures(published: Sequence[dt.datetime], now: dt.datetime, more: bool = False) -> dict[str, Any]:
    """Releases published in the last year and the date of the newest; `more`: GitHub listed a full page,
    so there may be more in the year."""
    since = now - dt.timedelta(days=YEAR_DAYS)
    in_year = [p for p in published if p >= since]
    last = max(published, default=None)
    figures: dict[str, Any] = {"year": len(in_year), "last": last.date().isoformat() if last else None}
    if more and len(in_year) == len(published):
        figures["more"] = True
    return figures


def stars_figures(count: int, starred: Sequence[dt.datetime] | None, complete: bool, now: dt.datetime
                  ) -> dict[str, Any]:
    """Stars now and stars gained in the window, from the newest stargazers' `starred_at` (`starred` None:
    the trend could not be read). `complete`: every star of the window was among those read; otherwise
    the gain is a lower bound (`more`)."""
    figures: dict[str, Any] = {"count": count}
    if starred is None:
        return figures
    since = now - dt.timedelta(days=WINDOW_DAYS)
    figures["gained"] = sum(1 for s in starred if s >= since)
    if not complete:
        figures["more"] = True
    return figures


# --- the packages the repository declares ----------------------------------------------------------------

_PLAIN_VERSION = re.compile(r"[0-9][A-Za-z0-9.+!_-]{0,63}")  # a version written out (not "{{ version }}")


def declared_packages(pyproject: str | None, package_json: str | None) -> tuple[PackageRef, ...]:
    """The packages a repository's pyproject.toml (`[project]`, or Poetry's `[tool.poetry]`) and package.json
    declare, with their version when it is written there (a dynamic one is not). A file that does not parse,
    a private npm package, or a name no registry could have declares nothing."""
    found: list[PackageRef] = []
    if pyproject:
        try:
            doc = tomllib.loads(pyproject)
        except (tomllib.TOMLDecodeError, ValueError):
            doc = {}
        for table in (doc.get("project"), (doc.get("tool") or {}).get("poetry")):
            if isinstance(table, dict) and isinstance(table.get("name"), str) and table["name"].strip():
                version = table.get("version")
                found.append(PackageRef("pypi", table["name"].strip(),
                                        version if isinstance(version, str) and _PLAIN_VERSION.fullmatch(version) else ""))
                break
    if package_json:
        try:
            doc = json.loads(package_json)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("name"), str) and doc["name"].strip() and not doc.get("private"):
            version = doc.get("version")
            found.append(PackageRef("npm", doc["name"].strip(),
                                    version if isinstance(version, str) and _PLAIN_VERSION.fullmatch(version) else ""))
    return tuple(p for p in found if p.valid)  # a name no registry could have is never sent to one


def packages_to_read(named: tuple[PackageRef, ...], declared: tuple[PackageRef, ...]) -> tuple[PackageRef, ...]:
    """The form's packages first, then those the repository declares that the form did not name (a declared
    version fills in one the form left out)."""
    result = list(named)
    for package in declared:
        same = next((i for i, p in enumerate(result) if (p.system, p.name.lower()) == (package.system, package.name.lower())), None)
        if same is None:
            result.append(package)
        elif not result[same].version and package.version:
            result[same] = PackageRef(result[same].system, result[same].name, package.version)
    return tuple(result)


# --- the change since the application --------------------------------------------------------------

# What a progress report compares: (indicator, figure); a higher value is better except for the response time.
COMPARED = (("stars", "count"), ("contributors", "active"), ("contributors", "total"), ("commits", "count"),
            ("releases", "year"), ("responsiveness", "median_hours"), ("community", "health"),
            ("scorecard", "score"), ("dependents", "count"), ("pypi_downloads", "month"), ("npm_downloads", "month"))


@dataclass(frozen=True)
class Change:
    key: str  # the indicator
    name: str  # its figure
    before: Any  # None: not read then
    after: Any  # None: not read now

    @property
    def difference(self) -> float | None:
        if isinstance(self.before, (int, float)) and isinstance(self.after, (int, float)):
            return self.after - self.before
        return None


def delta(first: Pack, latest: Pack) -> tuple[Change, ...]:
    """Every compared figure of the two packs (read in one or both), and the newest release when a new
    one came out."""
    changes = []
    for key, name in COMPARED:
        before, after = first.figure(key, name), latest.figure(key, name)
        if before is not None or after is not None:
            changes.append(Change(key, name, before, after))
    return tuple(changes)


# --- thresholds -------------------------------------------------------------------------------------

# threshold key -> (check id, what it measures, a maximum rather than a minimum)
THRESHOLDS: dict[str, tuple[str, tuple[str, str], bool]] = {
    "min_stars": ("stars", ("stars", "count"), False),
    "min_active_contributors": ("contributors", ("contributors", "active"), False),
    "min_bus_factor": ("bus_factor", ("contributors", "bus_factor"), False),
    "min_releases": ("releases", ("releases", "year"), False),
    "min_health": ("health", ("community", "health"), False),
    "max_response_days": ("response", ("responsiveness", "median_hours"), True),
    "min_scorecard": ("scorecard", ("scorecard", "score"), False),
    "min_dependents": ("dependents", ("dependents", "count"), False),
    "min_downloads": ("downloads", ("pypi_downloads", "month"), False),
}


def measure(pack: Pack, key: str) -> Decimal | None:
    """The figure a threshold limits, as read in `pack` (None: not read). Days for the response time;
    the downloads of the PyPI and npm packages together."""
    _, (indicator, name), _ = THRESHOLDS[key]
    if key == "min_downloads":
        found = [v for k in ("pypi_downloads", "npm_downloads") if (v := pack.figure(k, "month")) is not None]
        return Decimal(sum(found)) if found else None
    value = pack.figure(indicator, name)
    if value is None:
        return None
    number = Decimal(str(value))
    return (number / 24).quantize(Decimal("0.1")) if key == "max_response_days" else number


def passes(key: str, value: Decimal, limit: Decimal) -> bool:
    return value <= limit if THRESHOLDS[key][2] else value >= limit


__all__ = ["declared_packages", "packages_to_read", "COMMUNITY_FILES", "COMPARED", "THRESHOLDS", "WINDOW_DAYS", "Change", "ContributorWeeks", "Remark",
           "Thread", "bus_factor", "commits_figures", "contributors_figures", "delta", "measure", "passes",
           "releases_figures", "responsiveness_figures", "stars_figures"]
