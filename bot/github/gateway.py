"""The GitHub gateway: GitHub's endpoints as typed reads and idempotent writes, for one installation
(or one token).

Every request goes through `bot.github.transport.Transport` (retries, conditional GETs, counting);
PyGithub's throttling is off for deliveries and set deliberately for bulk work (`bot.github.app`).
Plain frozen dataclasses come out (`bot.policy.models`, `bot.github.data`), never lazy PyGithub
objects, so the core can never trigger a hidden request. Each public method says which endpoint it calls.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from bot.github.data import CommitWindow, ContributorPage, RepoFile, RepoInfo
from bot.github.pacing import Pacer, wait_for_slot
from bot.github.transport import (
    PER_PAGE, AnswerLost, GitHubError, Moved, NotFound, RequestStats, RetryPolicy, Transport, last_page, parse_link, repo_path,
)
from bot.policy.models import Comment, Issue, Reaction, RepoLabel, User, is_bot, parse_time
from bot.policy.text import bounded_output

log = logging.getLogger("fundbot.gateway")
T = TypeVar("T")
GRAPHQL_BATCH = 25  # users one GraphQL query asks about (each costs GitHub a contribution graph)


def _decode_content(data: Any) -> str | None:
    """A file's text as the contents or blobs endpoint sends it; None when it sends none (over 1 MB:
    `encoding: none`), so that such a file is never taken for an empty one."""
    import base64

    if not isinstance(data, Mapping):
        return None
    if data.get("encoding") != "base64":
        return "" if not data.get("size") else None
    return base64.b64decode(str(data.get("content") or "")).decode("utf-8", errors="replace")


class GitHubGateway:
    """GitHub as seen by one installation (or one token): typed reads and idempotent writes.

    Every body the App writes passes `bounded_output`: no bidirectional controls, never longer
    than GitHub takes."""

    def __init__(self, transport: Transport, app_login: Callable[[], str] = lambda: "", *,
                 sleep: Callable[[float], None] = time.sleep, policy: RetryPolicy | None = None,
                 pacer: Pacer | None = None) -> None:
        self._t = transport
        self._app_login = app_login
        self._sleep = sleep
        self._policy = policy or RetryPolicy()
        self._pacer = pacer
        self.paced_seconds = 0.0  # how long this gateway's content writes waited for a slot

    @property
    def stats(self) -> RequestStats:
        return self._t.stats

    @property
    def transport(self) -> Transport:
        """The channel the gateway's reads go through (`bot.github.insights` reads the evidence on it)."""
        return self._t

    @property
    def app_login(self) -> str:
        """The login the App writes as (`<slug>[bot]`, or the token's user): its own comments are
        recognised by it, never by `type == "Bot"` (SPEC §11)."""
        return self._app_login()

    def _create_once(self, path: str, payload: dict[str, Any], parse: Callable[[Any], T],
                     find_again: Callable[[], T | None], *, urgent: bool = False) -> T:
        """POST `payload` to `path` — content: paced under GitHub's secondary limits (`bot.github.pacing`)
        — at most once in effect: when the answer is lost, look for what was written (`find_again`)
        and adopt it before trying again."""
        if self._pacer is not None:
            self.paced_seconds += wait_for_slot(self._pacer, self._t.scope, urgent, self._sleep)
        for attempt in range(1, self._policy.attempts + 1):
            try:
                return parse(self._t.request("POST", path, body=payload, idempotent=False).data)
            except AnswerLost:
                if attempt == self._policy.attempts:
                    raise
                self._sleep(min(self._policy.base_delay * 2 ** (attempt - 1), self._policy.max_delay))
                found = find_again()
                if found is not None:
                    log.info("a write GitHub did without answering was found and adopted", extra={"reason": path})
                    return found
        raise AssertionError("not reached")

    # --- repositories -------------------------------------------------------------------

    def repository(self, full_name: str) -> RepoInfo:
        """:calls: `GET /repos/{owner}/{repo}` (conditional; PyGithub follows a 301 for a moved one)"""
        data = self._t.request("GET", repo_path(full_name), conditional=True).data
        licence = data.get("license") or {}
        return RepoInfo(
            full_name=data["full_name"],
            html_url=data.get("html_url", ""),
            private=bool(data.get("private")),
            archived=bool(data.get("archived")),
            default_branch=data.get("default_branch") or "main",
            pushed_at=parse_time(data.get("pushed_at")),
            licence_spdx=licence.get("spdx_id"),
            licence_key=licence.get("key"),
            owner_is_org=(data.get("owner") or {}).get("type") == "Organization",
            fork=bool(data.get("fork")),
            parent=str((data.get("parent") or {}).get("full_name") or ""),
            stars=int(data.get("stargazers_count") or 0),
            size=int(data.get("size") or 0),
        )

    def commits_since(self, full_name: str, since: dt.datetime) -> CommitWindow:
        """:calls: `GET /repos/{owner}/{repo}/commits?since=…&per_page=1` (conditional)

        With one commit per page, the `Link` header's last page is the number of commits.
        Raises `GitHubError(409)` for an empty repository.
        """
        params = {"since": since.strftime("%Y-%m-%dT%H:%M:%SZ"), "per_page": 1}
        response = self._t.request("GET", f"{repo_path(full_name)}/commits", params=params, conditional=True)
        items = response.data or []
        count = last_page(response.headers.get("link")) or len(items)
        newest = parse_time(items[0]["commit"]["committer"]["date"]) if items else None
        return CommitWindow(count=count, newest_at=newest)

    def contributors(self, full_name: str) -> ContributorPage:
        """:calls: `GET /repos/{owner}/{repo}/contributors?anon=true&per_page=100` (conditional)

        One page of 100 tells bots from people; a further page means at least 100 contributors.
        204 (empty repository) and 403 ("too large to list") are answers, not errors.
        """
        try:
            response = self._t.request(
                "GET", f"{repo_path(full_name)}/contributors", params={"anon": "true", "per_page": PER_PAGE},
                conditional=True,
            )
        except GitHubError as err:
            if err.status == 403 and "too large" in err.message.lower():
                return ContributorPage(contributors=(), more=True, too_large=True)
            raise
        if response.status == 204 or not response.data:
            return ContributorPage(contributors=(), more=False, empty=response.status == 204)
        people = tuple(
            User(login=c.get("login") or c.get("name") or c.get("email") or "anonymous", type=c.get("type", "User"))
            for c in response.data
        )
        return ContributorPage(contributors=people, more="next" in parse_link(response.headers.get("link")))

    def file(self, full_name: str, path: str) -> "RepoFile | None":
        """:calls: `GET /repos/{owner}/{repo}/contents/{path}` (conditional); None when there is no such file"""
        try:
            data = self._t.request("GET", f"{repo_path(full_name)}/contents/{quote(path)}", conditional=True).data
        except NotFound:
            return None
        if not isinstance(data, Mapping) or data.get("type") != "file":
            return None
        return RepoFile(path=path, sha=str(data.get("sha") or ""), text=_decode_content(data),
                        size=int(data.get("size") or 0))

    def blob(self, full_name: str, sha: str) -> str | None:
        """:calls: `GET /repos/{owner}/{repo}/git/blobs/{file_sha}` (conditional): a file as some commit had it"""
        try:
            data = self._t.request("GET", f"{repo_path(full_name)}/git/blobs/{quote(sha, safe='')}",
                                   conditional=True).data
        except NotFound:
            return None
        return _decode_content(data)

    def installation_repositories(self) -> list[str]:
        """:calls: `GET /installation/repositories?per_page=100` (every page): what this installation may access"""
        names: list[str] = []
        url: str | None = "/installation/repositories"
        params: Mapping[str, Any] | None = {"per_page": PER_PAGE}
        while url:
            response = self._t.request("GET", url, params=params, conditional=True)
            names += [str(r["full_name"]) for r in (response.data or {}).get("repositories", [])]
            url = parse_link(response.headers.get("link")).get("next")
            params = None
        return names

    # --- issues ---------------------------------------------------------------------------

    def issue(self, full_name: str, number: int) -> Issue:
        """:calls: `GET /repos/{owner}/{repo}/issues/{issue_number}` (conditional)

        An issue transferred to another repository answers 301, which PyGithub follows to the issue where
        it now is: that is not this repository's issue any more, so it raises `Moved` (status 301)."""
        data = self._t.request("GET", f"{repo_path(full_name)}/issues/{number}", conditional=True).data
        where = str(data.get("repository_url") or "") if isinstance(data, Mapping) else ""
        if where and not where.lower().endswith(repo_path(full_name).lower()):
            raise Moved(301, f"issue #{number} was moved to {where.rsplit('/repos/', 1)[-1]}", data)
        return Issue.from_api(data, full_name)

    def issues(self, full_name: str, *, labels: str, state: str = "all") -> list[Issue]:
        """:calls: `GET /repos/{owner}/{repo}/issues?labels=…&state=…&per_page=100` (conditional, every page)

        Pull requests (which this endpoint also returns) are left out.
        """
        params = {"labels": labels, "state": state, "per_page": PER_PAGE, "sort": "created", "direction": "asc"}
        return [
            issue
            for item in self._pages(f"{repo_path(full_name)}/issues", params)
            if not (issue := Issue.from_api(item, full_name)).is_pull_request
        ]

    def update_issue(self, full_name: str, number: int, **fields: Any) -> Issue:
        """:calls: `PATCH /repos/{owner}/{repo}/issues/{issue_number}`"""
        if "body" in fields:
            fields["body"] = bounded_output(fields["body"])
        data = self._t.request("PATCH", f"{repo_path(full_name)}/issues/{number}", body=fields).data
        return Issue.from_api(data, full_name)

    def create_issue(self, full_name: str, title: str, body: str, labels: tuple[str, ...] = (), *,
                     marker: str | None = None) -> Issue:
        """:calls: `POST /repos/{owner}/{repo}/issues`; when the answer is lost, the App's open issue
        carrying `marker` (looked for among those with the first label) is adopted instead of a second."""
        payload = {"title": title, "body": bounded_output(body), "labels": list(labels)}

        def find_again() -> Issue | None:
            if not marker or not labels:
                return None
            return next((i for i in self.issues(full_name, labels=labels[0], state="open")
                         if i.user.login.lower() == self.app_login.lower() and marker in i.body), None)

        return self._create_once(f"{repo_path(full_name)}/issues", payload,
                                 lambda data: Issue.from_api(data, full_name), find_again)

    def comments(self, full_name: str, number: int) -> list[Comment]:
        """:calls: `GET /repos/{owner}/{repo}/issues/{issue_number}/comments?per_page=100` (conditional, every page)"""
        path = f"{repo_path(full_name)}/issues/{number}/comments"
        return [Comment.from_api(item) for item in self._pages(path, {"per_page": PER_PAGE})]

    def create_comment(self, full_name: str, number: int, body: str, *, marker: str | None = None,
                       urgent: bool = False) -> Comment:
        """:calls: `POST /repos/{owner}/{repo}/issues/{issue_number}/comments`

        When the answer is lost (a 5xx, a timeout), the comments are listed and the App's comment
        carrying `marker` is adopted, so a comment is never posted twice (SPEC §11)."""
        path = f"{repo_path(full_name)}/issues/{number}/comments"
        text = bounded_output(body)

        def find_again() -> Comment | None:
            if not marker:
                return None
            return next((c for c in self.comments(full_name, number)
                         if c.user.login.lower() == self.app_login.lower() and marker in c.body), None)

        return self._create_once(path, {"body": text}, Comment.from_api, find_again, urgent=urgent)

    def edit_comment(self, full_name: str, comment_id: int, body: str) -> Comment:
        """:calls: `PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}`"""
        path = f"{repo_path(full_name)}/issues/comments/{comment_id}"
        return Comment.from_api(self._t.request("PATCH", path, body={"body": bounded_output(body)}).data)

    def delete_comment(self, full_name: str, comment_id: int) -> None:
        """:calls: `DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}`; already gone is fine"""
        try:
            self._t.request("DELETE", f"{repo_path(full_name)}/issues/comments/{comment_id}")
        except NotFound:
            pass

    # --- labels ---------------------------------------------------------------------------

    def add_labels(self, full_name: str, number: int, names: tuple[str, ...]) -> None:
        """:calls: `POST /repos/{owner}/{repo}/issues/{issue_number}/labels`"""
        self._t.request("POST", f"{repo_path(full_name)}/issues/{number}/labels", body={"labels": list(names)})

    def remove_label(self, full_name: str, number: int, name: str) -> None:
        """:calls: `DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}`; already gone is fine"""
        try:
            self._t.request("DELETE", f"{repo_path(full_name)}/issues/{number}/labels/{quote(name, safe='')}")
        except NotFound:
            pass

    def repo_labels(self, full_name: str) -> list[RepoLabel]:
        """:calls: `GET /repos/{owner}/{repo}/labels?per_page=100` (conditional, every page)"""
        return [
            RepoLabel(name=item["name"], color=item.get("color", ""), description=item.get("description") or "")
            for item in self._pages(f"{repo_path(full_name)}/labels", {"per_page": PER_PAGE})
        ]

    def create_label(self, full_name: str, name: str, color: str, description: str) -> None:
        """:calls: `POST /repos/{owner}/{repo}/labels`"""
        body = {"name": name, "color": color, "description": description}
        self._t.request("POST", f"{repo_path(full_name)}/labels", body=body)

    def update_label(self, full_name: str, current_name: str, name: str, color: str, description: str) -> None:
        """:calls: `PATCH /repos/{owner}/{repo}/labels/{name}`"""
        body = {"new_name": name, "color": color, "description": description}
        self._t.request("PATCH", f"{repo_path(full_name)}/labels/{quote(current_name, safe='')}", body=body)

    # --- reactions, assignees, people -------------------------------------------------------

    def issue_reactions(self, full_name: str, number: int) -> list[Reaction]:
        """:calls: `GET /repos/{owner}/{repo}/issues/{issue_number}/reactions?per_page=100` (conditional)"""
        path = f"{repo_path(full_name)}/issues/{number}/reactions"
        return [
            Reaction(content=item["content"], user=User.from_api(item.get("user")),
                     created_at=parse_time(item.get("created_at")))
            for item in self._pages(path, {"per_page": PER_PAGE})
        ]

    def react_to_comment(self, full_name: str, comment_id: int, content: str) -> None:
        """:calls: `POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions` (200 if already there)"""
        path = f"{repo_path(full_name)}/issues/comments/{comment_id}/reactions"
        self._t.request("POST", path, body={"content": content})

    def add_assignees(self, full_name: str, number: int, logins: tuple[str, ...]) -> tuple[str, ...]:
        """:calls: `POST /repos/{owner}/{repo}/issues/{issue_number}/assignees`; returns who is assigned now"""
        path = f"{repo_path(full_name)}/issues/{number}/assignees"
        data = self._t.request("POST", path, body={"assignees": list(logins)}).data
        return tuple(a["login"] for a in data.get("assignees") or [])

    def can_be_assigned(self, full_name: str, login: str) -> bool:
        """:calls: `GET /repos/{owner}/{repo}/assignees/{assignee}` (204 yes, 404 no)"""
        try:
            self._t.request("GET", f"{repo_path(full_name)}/assignees/{quote(login, safe='')}")
        except NotFound:
            return False
        return True

    def collaborators(self, full_name: str, limit: int = 10) -> tuple[str, ...]:
        """:calls: `GET /repos/{owner}/{repo}/collaborators?permission=push&per_page=…` (conditional, one page)

        Who can act on the repository: the people a reminder names when the rules name no one."""
        params = {"permission": "push", "per_page": limit}
        data = self._t.request("GET", f"{repo_path(full_name)}/collaborators", params=params, conditional=True).data
        return tuple(c["login"] for c in data or [] if not is_bot(c.get("login"), c.get("type")))

    def is_public_member(self, org: str, login: str) -> bool:
        """:calls: `GET /orgs/{org}/public_members/{username}` (204 yes, 404 no): answered for any caller"""
        try:
            self._t.request("GET", f"/orgs/{quote(org, safe='')}/public_members/{quote(login, safe='')}")
        except NotFound:
            return False
        return True

    def is_org_member(self, org: str, login: str) -> bool:
        """:calls: `GET /orgs/{org}/members/{username}` (204 yes, 404 no). An App installed on the organisation
        with Members read sees private members too; for any other caller GitHub answers 302 to the public
        list, which is asked then (`is_public_member`)."""
        try:
            response = self._t.request("GET", f"/orgs/{quote(org, safe='')}/members/{quote(login, safe='')}")
        except NotFound:
            return False
        return self.is_public_member(org, login) if response.status == 302 else True

    def team_exists(self, org: str, team_slug: str) -> bool:
        """:calls: `GET /orgs/{org}/teams/{team_slug}` (conditional; 404: no such team, or not one the App
        can see)"""
        try:
            self._t.request("GET", f"/orgs/{quote(org, safe='')}/teams/{quote(team_slug, safe='')}",
                            conditional=True)
        except NotFound:
            return False
        return True

    def users_contributions(self, logins: list[str], since: dt.datetime, until: dt.datetime
                            ) -> dict[str, tuple[dt.datetime, int] | None]:
        """:calls: `POST /graphql`, `GRAPHQL_BATCH` users a query: each account's `createdAt` and its public
        contributions between `since` and `until` (at most a year: the contribution graph's total less the
        contributions it counts but cannot show, `restrictedContributionsCount`). The REST API has no count of
        contributions; GraphQL's `contributionsCollection` is the contribution graph itself, and one query
        answers for many users. A login GitHub does not know is None."""
        found: dict[str, tuple[dt.datetime, int] | None] = {}
        for start in range(0, len(logins), GRAPHQL_BATCH):
            batch = logins[start:start + GRAPHQL_BATCH]
            names = ", ".join(f"$l{i}: String!" for i in range(len(batch)))
            fields = " ".join(f"u{i}: user(login: $l{i}) {{ login createdAt contributionsCollection(from: $from, "
                              "to: $to) { contributionCalendar { totalContributions } restrictedContributionsCount } }"
                              for i in range(len(batch)))
            query = f"query($from: DateTime!, $to: DateTime!, {names}) {{ {fields} }}"
            variables = {"from": since.strftime("%Y-%m-%dT%H:%M:%SZ"), "to": until.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         **{f"l{i}": login for i, login in enumerate(batch)}}
            data = self._t.request("POST", self._t.graphql_url(), body={"query": query, "variables": variables},
                                   reading=True).data or {}
            users = data.get("data") if isinstance(data, Mapping) else None
            if not isinstance(users, Mapping):  # the query was refused as a whole
                raise GitHubError(200, "; ".join(str(e.get("message")) for e in data.get("errors") or [])[:300]
                                  or "GraphQL answered no data", data)
            for i, login in enumerate(batch):
                user = users.get(f"u{i}")
                if user is None:
                    found[login] = None
                    continue
                graph = user.get("contributionsCollection") or {}
                total = int((graph.get("contributionCalendar") or {}).get("totalContributions") or 0)
                created = parse_time(user.get("createdAt"))
                if created is not None:
                    found[login] = (created, max(total - int(graph.get("restrictedContributionsCount") or 0), 0))
        return found

    def is_team_member(self, org: str, team_slug: str, login: str) -> bool:
        """:calls: `GET /orgs/{org}/teams/{team_slug}/memberships/{username}` (active membership only)"""
        path = f"/orgs/{quote(org, safe='')}/teams/{quote(team_slug, safe='')}/memberships/{quote(login, safe='')}"
        try:
            data = self._t.request("GET", path).data
        except NotFound:
            return False
        return isinstance(data, Mapping) and data.get("state") == "active"

    # --- helpers ----------------------------------------------------------------------------

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Every item of a paginated list, following `Link: rel="next"` (each page conditional).

        A page answered 304 is the page as it was, with the links it had then: when that was the last page
        and a full one, a page may have been added after it since, so the page after it is asked for too
        (an empty page when there is none, and a 304 after that)."""
        url: str | None = path
        page_params: Mapping[str, Any] | None = params
        number = 1
        while url:
            response = self._t.request("GET", url, params=page_params, conditional=True)
            items = response.data or []
            yield from items
            url = parse_link(response.headers.get("link")).get("next")
            page_params = None  # the next URL carries the query
            number += 1
            if url is None and response.not_modified and len(items) >= int(params.get("per_page") or 30):
                url, page_params = path, {**params, "page": number}
