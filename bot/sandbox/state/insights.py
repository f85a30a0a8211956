"""What the evidence pack reads of a repository beyond its code: forks, stars (with when each was given),
releases, issues and pull requests from the project's people and from outside with their answers, a
history too long for GitHub's statistics, and statistics still being computed (202)."""
from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timezone

from ..model import Account, Release, Repo

UTC = timezone.utc


class Insights:
    """The sandbox's part that seeds what GitHub's insights show about a repository."""

    lock: threading.RLock

    def fork_repo(self, parent: str, full_name: str, **kw: object) -> int:
        """A fork of `parent` (GitHub gives no community profile for a fork)."""
        with self.lock:
            repo_id = self.add_repo(full_name, **kw)  # type: ignore[attr-defined]
            self._repos[repo_id].parent = self._seed_repo(parent)  # type: ignore[attr-defined]
            return repo_id

    def add_stars(self, repo: str, stars: Iterable[tuple[str, datetime]]) -> None:
        """People starring `repo`, each with when (GitHub lists them oldest first)."""
        with self.lock:
            target: Repo = self._seed_repo(repo)  # type: ignore[attr-defined]
            target.stars += [(self.account(login), _aware(at)) for login, at in stars]  # type: ignore[attr-defined]
            target.stars.sort(key=lambda s: s[1])

    def add_release(self, repo: str, tag: str, published_at: datetime | None, *, prerelease: bool = False) -> None:
        """A release (`published_at` None: a draft, listed only to those who can push)."""
        with self.lock:
            target: Repo = self._seed_repo(repo)  # type: ignore[attr-defined]
            moment = _aware(published_at) if published_at else self.now()  # type: ignore[attr-defined]
            target.releases.append(Release(self._next_id(), tag, target.owner, moment,  # type: ignore[attr-defined]
                                           _aware(published_at) if published_at else None, prerelease))

    def add_thread(self, repo: str, user: str, created_at: datetime, *, pull_request: bool = False,
                   answers: Iterable[tuple[str, datetime]] = (), closed_at: datetime | None = None,
                   merged_at: datetime | None = None, title: str = "A question") -> int:
        """An issue (or pull request) opened by `user` at `created_at`, with comments (`answers`: login, when),
        closed or merged when given. Returns its number."""
        with self.lock:
            number = self.add_issue(repo, user, title, "")  # type: ignore[attr-defined]
            issue = self._seed_issue(repo, number)  # type: ignore[attr-defined]
            issue.created_at = issue.updated_at = _aware(created_at)
            issue.pull_request, issue.merged_at = pull_request, _aware(merged_at) if merged_at else None
            if closed_at or merged_at:
                issue.state, issue.closed_at = "closed", _aware(closed_at or merged_at)  # type: ignore[arg-type]
                issue.state_reason = "completed"
            for login, at in answers:
                comment_id = self.add_comment(repo, number, login, "Thanks, looking into it.")  # type: ignore[attr-defined]
                comment = self.comment_by_id(issue.repo, comment_id)  # type: ignore[attr-defined]
                comment.created_at = comment.updated_at = _aware(at)
            return number

    def set_history_size(self, repo: str, commits: int) -> None:
        """The repository's history has `commits` commits in all (GitHub computes no statistics past 10,000)."""
        with self.lock:
            target: Repo = self._seed_repo(repo)  # type: ignore[attr-defined]
            target.commit_count = max(commits - len(target.commits), 0)

    def compute_stats_slowly(self, repo: str, answers: int, kinds: Iterable[str] = ("contributors", "participation")) -> None:
        """GitHub answers the next `answers` requests of each statistics endpoint with 202 (still computing)."""
        with self.lock:
            target: Repo = self._seed_repo(repo)  # type: ignore[attr-defined]
            for kind in kinds:
                target.stats_pending[kind] = answers


def _aware(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)


__all__ = ["Account", "Insights"]
