"""Issues: opened (through the API, by a simulated person, or seeded without a delivery), edited,
closed and reopened, assigned, and found by number. Each change happens in one place, for the API and
for people alike, and returns the deliveries GitHub sends for it."""
from __future__ import annotations

import threading
from collections.abc import Iterable

from .. import render
from ..deliveries import Delivery
from ..model import Account, Issue, Repo
from .errors import GitHubError, Moved, not_found

GET_AN_ISSUE = "https://docs.github.com/rest/issues/issues#get-an-issue"


class Issues:
    """The sandbox's part that keeps issues (each repository's, in ``Repo.issues`` by number)."""

    lock: threading.RLock

    def _touch(self, issue: Issue) -> None:
        issue.updated_at = self.now()  # GitHub bumps updated_at on comments, labels and edits

    def _new_issue(self, repo: Repo, user: Account, title: str, body: str | None, *, via_app: bool) -> Issue:
        now = self.now()
        number = repo.next_issue_number()
        issue = Issue(self._next_id(), repo, number, title, body, user, now, now, via_app=via_app)
        repo.issues[number] = issue
        return issue

    def create_issue(self, repo: Repo, user: Account, title: str, body: str | None, labels: Iterable[str],
                    assignees: Iterable[str], *, via_app: bool, create_labels: bool) -> tuple[Issue, list[Delivery]]:
        issue = self._new_issue(repo, user, title, body, via_app=via_app)
        for name in labels:
            label = repo.find_label(name)
            if label is None and create_labels:
                label = self.create_label(repo, name)
            if label is not None and label.id not in issue.label_ids:
                issue.label_ids.append(label.id)
        issue.assignees = self._assignable(repo, assignees)
        sent = self._deliver("issues", "opened", issue, user)
        for label in issue.labels():  # GitHub follows `opened` with one `labeled` per label
            sent += self._deliver("issues", "labeled", issue, user, label=label)
        for assignee in issue.assignees:
            sent += self._deliver("issues", "assigned", issue, user, assignee=assignee)
        return issue, sent

    def _assignable(self, repo: Repo, logins: Iterable[str]) -> list[Account]:
        """GitHub silently drops assignees who may not be assigned."""
        return [self.account(login) for login in dict.fromkeys(logins) if self.can_be_assigned(repo, login)]

    def can_be_assigned(self, repo: Repo, login: str) -> bool:
        return repo.can(login, "triage") or (repo.owner.type == "Organization" and self.is_org_member(repo.owner.login, login))

    def update_issue(self, issue: Issue, actor: Account, *, title: str | None = None, body: str | None = None,
                    state: str | None = None, state_reason: str | None = None) -> list[Delivery]:
        """Title/body (one ``issues.edited`` with ``changes``) and state (``closed``/``reopened``)."""
        sent: list[Delivery] = []
        changes = {}
        if title is not None and title != issue.title:
            changes["title"] = {"from": issue.title}
            issue.title = title
        if body is not None and body != issue.body:
            changes["body"] = {"from": issue.body}
            issue.body = body
        if changes:
            self._touch(issue)
            sent += self._deliver("issues", "edited", issue, actor, changes=changes)
        if state == "closed" and issue.state == "open":
            issue.state, issue.closed_at, issue.closed_by = "closed", self.now(), actor
            issue.state_reason = state_reason or "completed"
            self._touch(issue)
            sent += self._deliver("issues", "closed", issue, actor)
        elif state == "open" and issue.state == "closed":
            issue.state, issue.closed_at, issue.state_reason = "open", None, "reopened"
            self._touch(issue)
            sent += self._deliver("issues", "reopened", issue, actor)
        elif state == "closed" and state_reason and state_reason != issue.state_reason:
            issue.state_reason = state_reason
            self._touch(issue)
        return sent

    def change_assignees(self, issue: Issue, actor: Account, add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[Delivery]:
        sent: list[Delivery] = []
        dropping = {login.lower() for login in remove}
        for account in [a for a in issue.assignees if a.login.lower() in dropping]:
            issue.assignees.remove(account)
            sent += self._deliver("issues", "unassigned", issue, actor, assignee=account)
        for account in self._assignable(issue.repo, add):
            if account not in issue.assignees and len(issue.assignees) < 10:  # GitHub's limit
                issue.assignees.append(account)
                sent += self._deliver("issues", "assigned", issue, actor, assignee=account)
        if sent:
            self._touch(issue)
        return sent

    # -- seeding, and simulated people: each action returns the delivery GitHub would send

    def add_issue(self, repo: str, user: str, title: str, body: str = "", *, labels: Iterable[str] = (),
                  state: str = "open", assignees: Iterable[str] = ()) -> int:
        """Seed an issue without sending any delivery; missing labels are created. Returns its number."""
        with self.lock:
            target = self._seed_repo(repo)
            issue = self._new_issue(target, self.account(user), title, body, via_app=False)
            for name in labels:
                label = target.find_label(name) or self.create_label(target, name)
                issue.label_ids.append(label.id)
            issue.assignees = [self.account(a) for a in assignees]
            if state == "closed":
                issue.state, issue.state_reason, issue.closed_at, issue.closed_by = "closed", "completed", self.now(), issue.user
            return issue.number

    def open_issue(self, repo: str, user: str, title: str, body: str, labels: Iterable[str] = ()) -> Delivery:
        """``issues.opened``. As with an issue form, ``labels`` that do not exist in the repository
        are not added (https://docs.github.com/communities/using-templates-to-encourage-useful-issues-and-pull-requests/syntax-for-issue-forms#top-level-syntax);
        each label that is added also sends ``issues.labeled``, queued in ``pending_deliveries()``."""
        with self.lock:
            target = self._seed_repo(repo)
            _, sent = self.create_issue(target, self.account(user), title, body, labels, (), via_app=False,
                                       create_labels=False)
            return self._hand_over(sent)

    def edit_issue(self, repo: str, number: int, user: str, *, body: str | None = None,
                   title: str | None = None) -> Delivery:
        """``issues.edited`` with ``changes`` holding the old title/body."""
        with self.lock:
            sent = self.update_issue(self._seed_issue(repo, number), self.account(user), title=title, body=body)
            if not sent:
                raise ValueError("edit_issue changed nothing; GitHub sends no delivery then")
            return self._hand_over(sent)

    def close_issue(self, repo: str, number: int, user: str, reason: str = "completed") -> Delivery:
        with self.lock:
            return self._hand_over(self.update_issue(self._seed_issue(repo, number), self.account(user),
                                                    state="closed", state_reason=reason))

    def reopen_issue(self, repo: str, number: int, user: str) -> Delivery:
        with self.lock:
            return self._hand_over(self.update_issue(self._seed_issue(repo, number), self.account(user), state="open"))

    # -- an administrator deletes or transfers an issue (the deliveries are not modelled) --------

    def delete_issue(self, repo: str, number: int) -> None:
        """Delete the issue, as an administrator does (GraphQL's ``deleteIssue``; REST has no way): it
        leaves the listings with its comments, and its address (and its comments', labels' ...) is
        answered ``410 Gone``, or 404 to a caller who may not read the repository (``GET_AN_ISSUE``)."""
        with self.lock:
            issue = self._seed_issue(repo, number)
            for comment in issue.comments:
                del self._comments[comment.id]
            del issue.repo.issues[number]
            issue.repo.deleted_issues.add(number)

    def transfer_issue(self, repo: str, number: int, to_repo: str) -> int:
        """Transfer the issue to ``to_repo`` and return its number there (a new issue id too). Its
        comments and assignees go with it; its labels only where ``to_repo`` has one of the same name.
        Its old address, and everything below it, is then answered ``301`` to the new one.
        GitHub transfers only between repositories of one owner, and never from private to public:
        https://docs.github.com/issues/tracking-your-work-with-issues/administering-issues/transferring-an-issue-to-another-repository"""
        with self.lock:
            issue, target = self._seed_issue(repo, number), self._seed_repo(to_repo)
            source = issue.repo
            if target is source or target.owner is not source.owner:
                raise ValueError(f"GitHub transfers an issue only to another repository of {source.owner.login}")
            if source.private and not target.private:
                raise ValueError("GitHub does not transfer an issue from a private repository to a public one")
            names = [label.name for label in issue.labels()]
            del source.issues[number]
            source.transferred_issues[number] = issue
            issue.id, issue.repo, issue.number = self._next_id(), target, target.next_issue_number()
            issue.label_ids = [found.id for name in names if (found := target.find_label(name)) is not None]
            target.issues[issue.number] = issue
            self._touch(issue)
            return issue.number

    # -- looking at issues ---------------------------------------------------------------------

    def issue_at(self, repo: Repo, number: int) -> Issue:
        """The issue as the REST API finds it at ``repo``'s ``number``: ``410 Gone`` once deleted,
        ``Moved`` (a 301 for every method, as GitHub's description lists) once transferred, else 404
        if there never was one (``GET_AN_ISSUE``)."""
        found = repo.issues.get(number)
        if found is not None:
            return found
        if number in repo.deleted_issues:
            raise GitHubError(410, "This issue was deleted", documentation_url=GET_AN_ISSUE)
        moved = repo.transferred_issues.get(number)
        if moved is not None:  # where it is now, even if it moved again since
            raise Moved(f"/repos/{moved.repo.full_name}/issues/{moved.number}", 5, 301)
        raise not_found()

    def _seed_issue(self, repo: str, number: int) -> Issue:
        issue = self._seed_repo(repo).issues.get(number)
        if issue is None:
            raise KeyError(f"no issue {repo}#{number}")
        return issue

    def issue(self, repo: str, number: int) -> dict:
        """The issue as ``GET /repos/{o}/{r}/issues/{n}`` would show it."""
        with self.lock:
            return render.issue(self._seed_issue(repo, number), self.urls(), self.app_json())

    def issues(self, repo: str) -> list[dict]:
        """Every issue of the repository, open or closed, oldest first, as the REST API shows them."""
        with self.lock:
            target = self._seed_repo(repo)
            return [render.issue(i, self.urls(), self.app_json()) for i in sorted(target.issues.values(),
                                                                                   key=lambda i: i.number)]
