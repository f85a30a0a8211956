"""Labels: a repository's labels (names unique regardless of case, colours six hex digits) and the
labels on issues, added and removed through the API and by simulated people (``issues.labeled`` and
``issues.unlabeled`` deliveries)."""
from __future__ import annotations

import threading
from collections.abc import Iterable

from .. import render
from ..deliveries import Delivery
from ..model import Account, Issue, Label, Repo
from .errors import GitHubError

DEFAULT_LABEL_COLOR = "ededed"  # what GitHub gives a label created by adding it to an issue


class Labels:
    """The sandbox's part that keeps labels (each repository's, in ``Repo.labels`` by id)."""

    lock: threading.RLock

    def create_label(self, repo: Repo, name: str, color: str | None = None, description: str | None = None) -> Label:
        """A new repository label; names are unique regardless of case (422 ``already_exists``)."""
        if repo.find_label(name) is not None:
            raise label_invalid("already_exists", "name")
        label = Label(self._next_id(), name, _color(color or DEFAULT_LABEL_COLOR), description)
        repo.labels[label.id] = label
        return label

    def update_label(self, repo: Repo, label: Label, new_name: str | None, color: str | None,
                     description: str | None) -> None:
        if new_name is not None and new_name.lower() != label.name.lower() and repo.find_label(new_name):
            raise label_invalid("already_exists", "name")
        if color is not None:
            label.color = _color(color)
        if new_name is not None:
            label.name = new_name
        if description is not None:
            label.description = description

    def delete_label(self, repo: Repo, label: Label) -> None:
        del repo.labels[label.id]
        for issue in repo.issues.values():
            if label.id in issue.label_ids:
                issue.label_ids.remove(label.id)

    def add_issue_labels(self, issue: Issue, actor: Account, names: Iterable[str]) -> list[Delivery]:
        """Add labels, creating the ones the repository lacks with GitHub's default colour."""
        sent: list[Delivery] = []
        for name in names:
            label = issue.repo.find_label(name) or self.create_label(issue.repo, name)
            if label.id not in issue.label_ids:
                issue.label_ids.append(label.id)
                self._touch(issue)
                sent += self._deliver("issues", "labeled", issue, actor, label=label)
        return sent

    def remove_issue_label(self, issue: Issue, actor: Account, name: str) -> list[Delivery]:
        label = issue.repo.find_label(name)
        if label is None or label.id not in issue.label_ids:
            raise GitHubError(404, "Label does not exist",
                              documentation_url="https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue")
        issue.label_ids.remove(label.id)
        self._touch(issue)
        return self._deliver("issues", "unlabeled", issue, actor, label=label)

    def set_issue_labels(self, issue: Issue, actor: Account, names: list[str]) -> list[Delivery]:
        wanted = {n.lower() for n in names}
        sent: list[Delivery] = []
        for label in issue.labels():
            if label.name.lower() not in wanted:
                sent += self.remove_issue_label(issue, actor, label.name)
        return sent + self.add_issue_labels(issue, actor, names)

    # -- seeding, and simulated people ---------------------------------------------------------

    def add_label(self, repo: str, name: str, color: str = DEFAULT_LABEL_COLOR, description: str | None = None) -> dict:
        """Create a repository label (as the repository's own setup would) and return it."""
        with self.lock:
            target = self._seed_repo(repo)
            label = self.create_label(target, name, color, description)
            return render.label(label, target, self.urls())

    def label_issue(self, repo: str, number: int, user: str, label: str) -> Delivery:
        """``issues.labeled``; a label the repository lacks is created, as in GitHub's UI."""
        with self.lock:
            sent = self.add_issue_labels(self._seed_issue(repo, number), self.account(user), [label])
            if not sent:
                raise ValueError(f"the issue already has {label!r}; GitHub sends no delivery then")
            return self._hand_over(sent)

    def unlabel_issue(self, repo: str, number: int, user: str, label: str) -> Delivery:
        with self.lock:
            issue = self._seed_issue(repo, number)
            return self._hand_over(self.remove_issue_label(issue, self.account(user), label))

    # -- looking at labels ---------------------------------------------------------------------

    def issue_labels(self, repo: str, number: int) -> list[str]:
        with self.lock:
            return [lab.name for lab in self._seed_issue(repo, number).labels()]

    def labels(self, repo: str) -> list[dict]:
        with self.lock:
            target = self._seed_repo(repo)
            return [render.label(lab, target, self.urls()) for lab in sorted_labels(target)]


def sorted_labels(repo: Repo) -> list[Label]:
    return sorted(repo.labels.values(), key=lambda lab: lab.name.lower())


def label_invalid(code: str, field_name: str) -> GitHubError:
    return GitHubError(422, "Validation Failed", errors=[{"resource": "Label", "code": code, "field": field_name}],
                       documentation_url="https://docs.github.com/rest/issues/labels#create-a-label")


def _color(color: str) -> str:
    """Six hex digits, as GitHub stores a label colour (a leading ``#`` is tolerated)."""
    value = color.lstrip("#").lower()
    if len(value) != 6 or any(ch not in "0123456789abcdef" for ch in value):
        raise label_invalid("invalid", "color")
    return value
