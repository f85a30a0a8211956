"""Reactions to issues and comments: one per user and content (a repeat is the same reaction).
GitHub sends no webhook for them."""
from __future__ import annotations

import threading

from .. import render
from ..model import Account, Comment, Issue, Reaction


class Reactions:
    """The sandbox's part that keeps reactions (on their issue or comment)."""

    lock: threading.RLock

    def create_reaction(self, target: Issue | Comment, actor: Account, content: str) -> tuple[Reaction, bool]:
        """One reaction per user and content: a repeat returns the existing one (GitHub's 200)."""
        for existing in target.reactions:
            if existing.user is actor and existing.content == content:
                return existing, False
        reaction = Reaction(self._next_id(), actor, content, self.now())
        target.reactions.append(reaction)
        return reaction, True

    def react(self, repo: str, number: int, user: str, content: str, *, comment_id: int | None = None) -> None:
        """React to an issue (or one of its comments). GitHub sends no webhook for reactions."""
        with self.lock:
            target = self._seed_comment(repo, comment_id) if comment_id else self._seed_issue(repo, number)
            if content not in render.REACTIONS:
                raise ValueError(f"reaction must be one of {render.REACTIONS}")
            self.create_reaction(target, self.account(user), content)

    def add_reaction(self, repo: str, number: int, user: str, content: str, *, comment_id: int | None = None) -> None:
        self.react(repo, number, user, content, comment_id=comment_id)
