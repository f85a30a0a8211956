"""Comments on issues: created, edited and deleted through the API and by simulated people (each
change returns the ``issue_comment`` deliveries GitHub sends), seeded, and found by id."""
from __future__ import annotations

import threading

from .. import render
from ..deliveries import Delivery
from ..model import Account, Comment, Issue, Repo
from .errors import not_found


class Comments:
    """The sandbox's part that keeps comments (each issue's, in order, and all of them by id)."""

    lock: threading.RLock
    _comments: dict[int, Comment]

    def create_comment(self, issue: Issue, actor: Account, body: str, *, via_app: bool) -> tuple[Comment, list[Delivery]]:
        now = self.now()
        comment = Comment(self._next_id(), issue, actor, body, now, now, via_app=via_app)
        issue.comments.append(comment)
        self._comments[comment.id] = comment
        self._touch(issue)
        return comment, self._deliver("issue_comment", "created", issue, actor, comment=comment)

    def update_comment(self, comment: Comment, actor: Account, body: str) -> list[Delivery]:
        if body == comment.body:
            return []
        old, comment.body, comment.updated_at = comment.body, body, self.now()
        self._touch(comment.issue)
        return self._deliver("issue_comment", "edited", comment.issue, actor, comment=comment,
                             changes={"body": {"from": old}})

    def remove_comment(self, comment: Comment, actor: Account) -> list[Delivery]:
        comment.issue.comments.remove(comment)
        del self._comments[comment.id]
        self._touch(comment.issue)
        return self._deliver("issue_comment", "deleted", comment.issue, actor, comment=comment)

    # -- seeding, and simulated people ---------------------------------------------------------

    def add_comment(self, repo: str, number: int, user: str, body: str) -> int:
        """Seed a comment without sending any delivery; returns its id."""
        with self.lock:
            comment, _ = self.create_comment(self._seed_issue(repo, number), self.account(user), body, via_app=False)
            return comment.id

    def comment(self, repo: str, number: int, user: str, body: str) -> Delivery:
        """``issue_comment.created``."""
        with self.lock:
            _, sent = self.create_comment(self._seed_issue(repo, number), self.account(user), body, via_app=False)
            return self._hand_over(sent)

    def edit_comment(self, repo: str, comment_id: int, user: str, body: str) -> Delivery:
        """``issue_comment.edited`` with ``changes.body.from``."""
        with self.lock:
            return self._hand_over(self.update_comment(self._seed_comment(repo, comment_id), self.account(user), body))

    def delete_comment(self, repo: str, comment_id: int, user: str) -> Delivery:
        with self.lock:
            return self._hand_over(self.remove_comment(self._seed_comment(repo, comment_id), self.account(user)))

    # -- looking at comments -------------------------------------------------------------------

    def comment_by_id(self, repo: Repo, comment_id: int) -> Comment:
        comment = self._comments.get(comment_id)
        if comment is None or comment.issue.repo is not repo:
            raise not_found()
        return comment

    def _seed_comment(self, repo: str, comment_id: int | None) -> Comment:
        comment = self._comments.get(comment_id or 0)
        if comment is None or comment.issue.repo is not self._seed_repo(repo):
            raise KeyError(f"no comment {comment_id} in {repo}")
        return comment

    def comments(self, repo: str, number: int) -> list[dict]:
        with self.lock:
            return [render.comment(c, self.urls(), self.app_json()) for c in self._seed_issue(repo, number).comments]
