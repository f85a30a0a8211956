"""Reading one evidence pack (issue 21): GitHub's endpoints (`bot.github.insights`) and the outside services
(`bot.outside`), independent reads in parallel, every figure with its source, every gap said.

Bounded: at most 25 GitHub requests (`Budget`; by construction a pack needs at most 20) and one request per
outside service; each outside service waits at most the rules' `timeout_seconds`. Nothing here raises for bad
input: a repository that does not exist, is private, empty, archived or a fork, one of 10,000 commits or
more, a package no registry knows — each becomes a line of the pack (`Pack.gap`, `Pack.notes`,
`Reading.gap`). Only GitHub failing on the repository itself (after the transport's retries) is raised,
to be read again later (the job's retry, or the sweep).
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from bot.github.gateway import GitHubGateway
from bot.github.insights import MAX_STAR_PAGE, Budget, Insights, OverBudget
from bot.github.transport import GitHubError, GitHubUnavailable, NotFound
from bot.outside import services
from bot.outside.client import Client, Unanswered
from bot.policy.evidence import (
    WINDOW_DAYS, commits_figures, contributors_figures, declared_packages, packages_to_read, releases_figures,
    responsiveness_figures, stars_figures,
)
from bot.policy.evidence_pack import Pack, PackageRef, Reading
from bot.policy.rules import EvidenceRules

log = logging.getLogger("fundbot.evidence")

WORKERS = 6  # parallel reads of one pack
MAX_STAR_PAGES = 3  # stargazer pages read for the trend (the newest first)
SECURITY_FOLDERS = (".github", "docs")  # where GitHub looks for SECURITY.md besides the root


class PackCache:
    """Packs this process read, per repository and packages, for the rules' `cache_hours` (thread-safe)."""

    def __init__(self, max_entries: int = 2048) -> None:
        self._packs: dict[tuple[str, tuple[str, ...]], Pack] = {}
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: tuple[str, tuple[str, ...]], now: dt.datetime, max_age: dt.timedelta) -> Pack | None:
        with self._lock:
            pack = self._packs.get(key)
        return pack if pack is not None and now - pack.at < max_age else None

    def put(self, key: tuple[str, tuple[str, ...]], pack: Pack) -> None:
        with self._lock:
            if len(self._packs) >= self._max:
                self._packs.pop(next(iter(self._packs)))  # the oldest entry
            self._packs[key] = pack


def read_pack(gateway: GitHubGateway, client: Client, requested: str, named: tuple[PackageRef, ...],
              rules: EvidenceRules, now: dt.datetime, *, sleep: Callable[[float], None] = time.sleep) -> Pack:
    """Everything the rules switch on, about `requested` (OWNER/REPO) and its packages (those `named` on the
    form, then those the repository declares)."""
    budget = Budget()
    try:
        budget.take()
        info = gateway.repository(requested)  # :calls: GET /repos/{owner}/{repo}
    except NotFound:
        return Pack(requested, now, gap="not_found", requests=budget.spent)
    except GitHubUnavailable:
        raise  # read again later, rather than keep "GitHub did not answer" as the application's evidence
    except GitHubError as err:
        return Pack(requested, now, gap="unreadable", detail={"status": err.status}, requests=budget.spent)
    if info.private:
        return Pack(info.full_name, now, gap="private", requests=budget.spent)
    name = info.full_name
    notes = tuple(n for n, on in (("archived", info.archived), ("fork", info.fork), ("empty", info.size == 0)) if on)
    insights = Insights(gateway, budget, sleep=sleep)
    reader = _Reader(insights, client, name, rules, now)
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="evidence") as pool:
        wants_files = rules.on("community") or any(rules.on(s) for s in ("dependents", "pypi_downloads", "npm_downloads"))
        files: Future[tuple[frozenset[str], tuple[PackageRef, ...]]] | None = \
            pool.submit(_guard, reader.files) if wants_files else None

        def declared() -> tuple[PackageRef, ...]:
            return packages_to_read(named, files.result()[1] if files is not None else ())

        tasks: dict[str, Callable[[], Reading]] = {
            "community": lambda: reader.community(info.fork, files),
            "commits": reader.commits, "contributors": reader.contributors,
            "responsiveness": reader.responsiveness, "releases": reader.releases,
            "stars": lambda: reader.stars(info.stars), "scorecard": reader.scorecard,
            "dependents": lambda: reader.dependents(declared()),
            "pypi_downloads": lambda: reader.downloads("pypi", declared()),
            "npm_downloads": lambda: reader.downloads("npm", declared()),
        }
        source = {"commits": "activity", "contributors": "activity"}
        futures = {key: pool.submit(_reading, key, task) if rules.on(source.get(key, key)) else None
                   for key, task in tasks.items()}
        readings = tuple(future.result() if future is not None else Reading(key, gap="off")
                         for key, future in futures.items())
    return Pack(name, now, readings, notes=notes, detail={"parent": info.parent} if info.fork and info.parent else {},
                requests=budget.spent)


def _guard(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except (OverBudget, GitHubError):
        return frozenset(), ()


def _reading(key: str, read: Callable[[], Reading]) -> Reading:
    """One indicator read; whatever goes wrong becomes its gap, never an exception."""
    try:
        return read()
    except OverBudget:
        return Reading(key, gap="budget")
    except GitHubUnavailable:
        return Reading(key, gap="unavailable")
    except GitHubError as err:
        return Reading(key, gap="error", detail={"status": err.status})
    except Unanswered as err:
        return Reading(key, gap=err.kind, detail={"seconds": err.seconds} if err.kind == "timeout" else {"status": err.status})
    except Exception:  # a surprise in one indicator must not cost the others (nor stall the application)
        log.exception("an evidence indicator could not be read", extra={"reason": key})
        return Reading(key, gap="error", detail={"status": 0})


class _Reader:
    """The reads of one pack, one method per indicator (each a task of the pool)."""

    def __init__(self, insights: Insights, client: Client, name: str, rules: EvidenceRules, now: dt.datetime) -> None:
        self.github = insights
        self.client = client
        self.name = name
        self.rules = rules
        self.now = now

    def files(self) -> tuple[frozenset[str], tuple[PackageRef, ...]]:
        """The community files found beside GitHub's profile (SECURITY), and the packages the repository
        declares: the root folder, the folders GitHub looks in for SECURITY.md, pyproject.toml, package.json."""
        root = {n.lower(): n for n in self.github.listing(self.name)}
        found = {n.rsplit(".", 1)[0] for n in root}
        for folder in SECURITY_FOLDERS:
            if folder in root:
                found |= {n.lower().rsplit(".", 1)[0] for n in self.github.listing(self.name, root[folder])}
        pyproject = self.github.text(self.name, root["pyproject.toml"]) if "pyproject.toml" in root else None
        package_json = self.github.text(self.name, root["package.json"]) if "package.json" in root else None
        present = frozenset({"security"} if "security" in found else set())
        return present, declared_packages(pyproject, package_json)

    def community(self, fork: bool, files: Future[tuple[frozenset[str], tuple[PackageRef, ...]]] | None) -> Reading:
        if fork:
            return Reading("community", gap="fork")  # GitHub refuses the community profile of a fork
        health, present = self.github.community_profile(self.name)
        extra = files.result()[0] if files is not None else frozenset()
        return Reading("community", {"health": health, "files": sorted(present | extra)})

    def commits(self) -> Reading:
        answer = self.github.statistics(self.name, "participation")
        if answer.status != "ok":
            return Reading("commits", gap=answer.status)
        return Reading("commits", commits_figures((answer.data or {}).get("all") or []))

    def contributors(self) -> Reading:
        answer = self.github.statistics(self.name, "contributors")
        if answer.status != "ok":
            return Reading("contributors", gap=answer.status)
        return Reading("contributors", contributors_figures(self.github.contributors(answer.data), self.now))

    def responsiveness(self) -> Reading:
        threads = self.github.threads(self.name, self.rules.responsiveness_sample)
        outside = [t for t in threads if t.outside]
        if not outside:
            return Reading("responsiveness", responsiveness_figures([], []))
        remarks, partial = self.github.remarks(self.name, min(t.created_at for t in outside))
        return Reading("responsiveness", responsiveness_figures(outside, remarks, partial))

    def releases(self) -> Reading:
        published, more = self.github.releases(self.name)
        return Reading("releases", releases_figures(published, self.now, more))

    def stars(self, count: int) -> Reading:
        """Stars now (from the repository) and gained in the window: the last pages of the stargazers, the
        newest last, until one reaches back past the window (at most MAX_STAR_PAGES)."""
        last = math.ceil(count / 100)
        if last == 0:
            return Reading("stars", stars_figures(0, [], True, self.now))
        if last > MAX_STAR_PAGE:
            return Reading("stars", {**stars_figures(count, None, True, self.now), "trend": "too_many"})
        since = self.now - dt.timedelta(days=WINDOW_DAYS)
        starred: list[dt.datetime] = []
        complete = False
        for page in range(last, max(last - MAX_STAR_PAGES, 0), -1):
            found = self.github.stargazers(self.name, page)
            starred += found
            if page == 1 or (found and min(found) < since):
                complete = True
                break
        return Reading("stars", stars_figures(count, starred, complete, self.now))

    def scorecard(self) -> Reading:
        figures = services.scorecard(self.client, self.name, self.rules.timeout_seconds)
        return Reading("scorecard", figures) if figures is not None else Reading("scorecard", gap="unknown")

    def dependents(self, packages: tuple[PackageRef, ...]) -> Reading:
        """deps.dev's count for the first package with a known version (one request per pack)."""
        if not packages:
            return Reading("dependents", gap="no_package")
        chosen = next((p for p in packages if p.version), None)
        if chosen is None:
            return Reading("dependents", gap="no_version", detail={"package": str(packages[0])})
        figures = services.dependents(self.client, chosen.system, chosen.name, chosen.version, self.rules.timeout_seconds)
        if figures is None:
            return Reading("dependents", gap="unknown", detail={"package": str(chosen)})
        return Reading("dependents", {**figures, "package": f"{chosen.system}:{chosen.name}", "version": chosen.version})

    def downloads(self, system: str, packages: tuple[PackageRef, ...]) -> Reading:
        """The registry's downloads in 30 days of the first package on it (one request per pack)."""
        key = f"{system}_downloads"
        chosen = next((p for p in packages if p.system == system), None)
        if chosen is None:
            return Reading(key, gap="no_package")
        read = services.pypi_downloads if system == "pypi" else services.npm_downloads
        figures = read(self.client, chosen.name, self.rules.timeout_seconds)
        if figures is None:
            return Reading(key, gap="unknown", detail={"package": f"{system}:{chosen.name}"})
        return Reading(key, {**figures, "package": f"{system}:{chosen.name}"})


__all__ = ["WORKERS", "PackCache", "read_pack"]
