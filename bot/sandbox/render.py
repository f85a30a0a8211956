"""GitHub-shaped JSON: the vendored example bodies in ``shapes/`` with their fields filled from the
records of ``model.py``: users, repositories and what is in them, issues, comments, labels, reactions,
collaborators' permissions and the rate limit (the App and its installations: ``render_apps.py``).

Every response body starts as a deep copy of one of GitHub's own example bodies (see
``shapes/SOURCES.md``), so keys we do not model keep GitHub's names and types; the fields we do
model are replaced. URLs are rebased onto the sandbox's API root.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:  # pragma: no cover - types only
    from .model import Account, Comment, Commit, Contributor, Issue, Label, Reaction, Repo, Team

SHAPES = Path(__file__).with_name("shapes")
EXAMPLE_API = "https://api.github.com"
EXAMPLE_WEB = "https://github.com"
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")


@dataclass(frozen=True)
class Urls:
    """Where the rendered URLs point: the API root the client used, and the web root."""

    api: str = EXAMPLE_API
    web: str = EXAMPLE_WEB


@cache
def _shape(name: str) -> Any:
    return json.loads((SHAPES / f"{name}.json").read_text(encoding="utf-8"))


def template(name: str) -> Any:
    """A fresh copy of the vendored example body ``shapes/<name>.json``."""
    return copy.deepcopy(_shape(name))


def iso(moment: datetime | None) -> str | None:
    """GitHub's timestamp format: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, ident: int | str) -> str:
    """GitHub's legacy global node id, e.g. ``MDQ6VXNlcjE=`` is base64 of ``04:User1``."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def _rebase(value: Any, pairs: list[tuple[str, str]]) -> Any:
    """Replace example URL parts in every string below ``value`` (nested objects included)."""
    if isinstance(value, str):
        for old, new in pairs:
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_rebase(item, pairs) for item in value]
    if isinstance(value, dict):
        return {key: _rebase(item, pairs) for key, item in value.items()}
    return value


def _roots(urls: Urls) -> list[tuple[str, str]]:
    return [(EXAMPLE_API, urls.api), (EXAMPLE_WEB, urls.web)]


def example(name: str, full_name: str, urls: Urls, *more: tuple[str, str]) -> Any:
    """GitHub's example body ``shapes/<name>.json``, its repository and URLs moved to ``full_name`` on ``urls``
    (and the further ``(old, new)`` replacements in ``more``)."""
    return _rebase(template(name), [("octocat/Hello-World", full_name), *more, *_roots(urls)])


def conform(rendered: dict, example: dict, *, exact: bool = False) -> dict:
    """Give ``rendered`` the example's keys: missing ones take the example's value; with
    ``exact`` keys the example lacks are dropped (webhook objects are not the REST objects)."""
    out = {key: rendered[key] if key in rendered else copy.deepcopy(value) for key, value in example.items()}
    if not exact:
        out.update({key: value for key, value in rendered.items() if key not in out})
    return out


def user(account: Account, urls: Urls) -> dict:
    """A ``simple-user``; bots are ``login[bot]`` with ``type: Bot`` as GitHub shows them."""
    body = _rebase(
        template("simple-user"),
        [(f"{EXAMPLE_API}/users/octocat", f"{urls.api}/users/{quote(account.login)}"),
         (f"{EXAMPLE_WEB}/octocat", f"{urls.web}/{account.login}"), *_roots(urls)],
    )
    kind = {"Bot": "Bot", "Organization": "Organization"}.get(account.type, "User")
    body.update(
        login=account.login,
        id=account.id,
        node_id=node_id(kind, account.id),
        avatar_url=f"https://avatars.githubusercontent.com/u/{account.id}?v=4",
        type=account.type,
        site_admin=False,
    )
    if account.type == "Bot":
        body["html_url"] = f"{urls.web}/apps/{account.login.removesuffix('[bot]')}"
    if account.type == "Organization":
        body["repos_url"] = f"{urls.api}/orgs/{account.login}/repos"
        body["events_url"] = f"{urls.api}/orgs/{account.login}/events"
    return body


def license_(spdx: str | None, key: str | None, name: str | None, urls: Urls) -> dict | None:
    """The ``license`` object of a repository; GitHub gives ``other``/``NOASSERTION`` for a
    licence file it cannot identify, and ``null`` when there is none."""
    if spdx is None:
        return None
    if spdx == "NOASSERTION":
        return {"key": "other", "name": "Other", "spdx_id": "NOASSERTION", "url": None, "node_id": node_id("License", 0)}
    return {
        "key": key,
        "name": name,
        "spdx_id": spdx,
        "url": f"{urls.api}/licenses/{key}",
        "node_id": node_id("License", key),
    }


def repository(repo: Repo, urls: Urls, permissions: dict[str, bool] | None) -> dict:
    """A ``full-repository``; ``permissions`` only for an authenticated caller, as on GitHub."""
    body = _rebase(template("full-repository"), [("octocat/Hello-World", repo.full_name), *_roots(urls)])
    body.update(
        id=repo.id,
        node_id=node_id("Repository", repo.id),
        name=repo.name,
        full_name=repo.full_name,
        owner=user(repo.owner, urls),
        private=repo.private,
        visibility="private" if repo.private else "public",
        description=repo.description,
        homepage=None,
        language=None,
        mirror_url=None,
        forks_count=0, forks=0, stargazers_count=len(repo.stars), watchers_count=len(repo.stars),
        watchers=len(repo.stars),
        subscribers_count=0, network_count=0,
        size=0 if repo.empty else max(1, sum(len(t) for t in repo.files.values()) // 1024),
        default_branch=repo.default_branch,
        open_issues_count=repo.open_issue_count(),
        open_issues=repo.open_issue_count(),
        is_template=False,
        topics=list(repo.topics),
        archived=repo.archived,
        disabled=False,
        fork=repo.parent is not None,
        license=license_(repo.license_spdx, repo.license_key, repo.license_name, urls),
        created_at=iso(repo.created_at),
        updated_at=iso(repo.updated_at),
        pushed_at=iso(repo.commits[0].date if repo.commits else repo.created_at),
        template_repository=None,
        temp_clone_token=None,
    )
    for key in ("parent", "source"):  # only forks have them
        body.pop(key, None)
        if repo.parent is not None:
            body[key] = repository(repo.parent, urls, None)
    if repo.owner.type == "Organization":
        body["organization"] = user(repo.owner, urls)
    else:
        body.pop("organization", None)
    if permissions is None:
        body.pop("permissions", None)
    else:
        body["permissions"] = permissions
    return body


def label(item: Label, repo: Repo, urls: Urls) -> dict:
    body = template("label")
    body.update(
        id=item.id,
        node_id=node_id("Label", item.id),
        url=f"{urls.api}/repos/{repo.full_name}/labels/{quote(item.name, safe='')}",
        name=item.name,
        description=item.description,
        color=item.color,
        default=item.default,
    )
    return body


def rollup(reactions: list[Reaction], url: str) -> dict:
    """The ``reactions`` roll-up GitHub puts on issues and comments."""
    body = template("reaction-rollup")
    body["url"] = url
    for content in REACTIONS:
        body[content] = sum(1 for r in reactions if r.content == content)
    body["total_count"] = len(reactions)
    return body


def issue(item: Issue, urls: Urls, app: dict | None) -> dict:
    """An ``issue`` as ``GET /repos/{o}/{r}/issues/{n}`` returns it (not a pull request)."""
    repo = item.repo
    body = _rebase(
        template("issue"),
        [("octocat/Hello-World", repo.full_name), ("/issues/1347", f"/issues/{item.number}"), *_roots(urls)],
    )
    assignees = [user(a, urls) for a in item.assignees]
    body.update(
        id=item.id,
        node_id=node_id("Issue", item.id),
        number=item.number,
        state=item.state,
        state_reason=item.state_reason,
        title=item.title,
        body=item.body,
        user=user(item.user, urls),
        labels=[label(lab, repo, urls) for lab in item.labels()],
        assignee=assignees[0] if assignees else None,
        assignees=assignees,
        milestone=None,
        locked=item.locked,
        active_lock_reason=None,
        comments=len(item.comments),
        closed_at=iso(item.closed_at),
        created_at=iso(item.created_at),
        updated_at=iso(item.updated_at),
        closed_by=user(item.closed_by, urls) if item.closed_by and item.state == "closed" else None,
        author_association=repo.association(item.user),
        pinned_comment=None,
        # present on every real issue, though the REST example omits them
        timeline_url=f"{urls.api}/repos/{repo.full_name}/issues/{item.number}/timeline",
        performed_via_github_app=app if item.via_app else None,
        reactions=rollup(item.reactions, f"{urls.api}/repos/{repo.full_name}/issues/{item.number}/reactions"),
    )
    body.pop("pull_request", None)  # only pull requests carry it
    if item.pull_request:
        web = f"{urls.web}/{repo.full_name}/pull/{item.number}"
        body["pull_request"] = {"url": f"{urls.api}/repos/{repo.full_name}/pulls/{item.number}", "html_url": web,
                                "diff_url": f"{web}.diff", "patch_url": f"{web}.patch", "merged_at": iso(item.merged_at)}
        body["html_url"] = web
    return body


def comment(item: Comment, urls: Urls, app: dict | None) -> dict:
    repo = item.issue.repo
    api_repo = f"{urls.api}/repos/{repo.full_name}"
    body = template("issue-comment")
    body.update(
        id=item.id,
        node_id=node_id("IssueComment", item.id),
        url=f"{api_repo}/issues/comments/{item.id}",
        html_url=f"{urls.web}/{repo.full_name}/issues/{item.issue.number}#issuecomment-{item.id}",
        body=item.body,
        user=user(item.user, urls),
        created_at=iso(item.created_at),
        updated_at=iso(item.updated_at),
        issue_url=f"{api_repo}/issues/{item.issue.number}",
        author_association=repo.association(item.user),
        pin=None,
        minimized=None,
        performed_via_github_app=app if item.via_app else None,
        reactions=rollup(item.reactions, f"{api_repo}/issues/comments/{item.id}/reactions"),
    )
    return body


def reaction(item: Reaction, urls: Urls) -> dict:
    body = template("reaction")
    body.update(
        id=item.id,
        node_id=node_id("Reaction", item.id),
        user=user(item.user, urls),
        content=item.content,
        created_at=iso(item.created_at),
    )
    return body


def commit(repo: Repo, item: Commit, parent: Commit | None, urls: Urls) -> dict:
    """One of ``commit-items``; the owner authored every seeded commit."""
    body = _rebase(
        template("commit-items")[0],
        [("octocat/Hello-World", repo.full_name), ("6dcb09b5b57875f334f61aebed695e2e4193db5e", item.sha), *_roots(urls)],
    )
    person = {"name": item.author.login, "email": f"{item.author.id}+{item.author.login}@users.noreply.github.com", "date": iso(item.date)}
    body["node_id"] = node_id("Commit", item.sha)
    body["commit"].update(author=dict(person), committer=dict(person), message=item.message, comment_count=0)
    body["commit"]["tree"]["sha"] = hashlib.sha1(f"tree:{item.sha}".encode()).hexdigest()
    body["author"] = user(item.author, urls)
    body["committer"] = user(item.author, urls)
    body["parents"] = (
        [{"url": f"{urls.api}/repos/{repo.full_name}/commits/{parent.sha}",
          "html_url": f"{urls.web}/{repo.full_name}/commit/{parent.sha}", "sha": parent.sha}]
        if parent else []
    )
    return body


def contributor(item: Contributor, account: Account | None, urls: Urls) -> dict:
    """A ``contributor``; anonymous ones (only with ``anon=true``) have no account, just
    ``name``/``email`` (schema ``#/components/schemas/contributor``)."""
    if account is None:
        return {"email": item.email, "name": item.name, "type": "Anonymous", "contributions": item.contributions}
    body = conform(user(account, urls), template("contributor-items")[0])
    body["contributions"] = item.contributions
    return body


def blob_sha(text: str) -> str:
    """Git's blob id, as GitHub reports it for a file's ``sha``."""
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def content_file(repo: Repo, path: str, text: str | None, ref: str, urls: Urls, *, inline: bool = True) -> dict:
    """A ``content-file``; ``text=None`` renders a directory entry (no ``content``). Without ``inline``
    the content is left out as GitHub leaves out a large file's: ``content: ""``, ``encoding: "none"``."""
    data = (text or "").encode()
    sha = blob_sha(text or "") if text is not None else hashlib.sha1(f"tree:{path}".encode()).hexdigest()
    self_url = f"{urls.api}/repos/{repo.full_name}/contents/{quote(path)}?ref={ref}"
    git_url = f"{urls.api}/repos/{repo.full_name}/git/{'blobs' if text is not None else 'trees'}/{sha}"
    html_url = f"{urls.web}/{repo.full_name}/{'blob' if text is not None else 'tree'}/{ref}/{path}"
    body = template("content-file")
    body.update(
        type="file" if text is not None else "dir",
        size=len(data),
        name=path.rsplit("/", 1)[-1],
        path=path,
        sha=sha,
        url=self_url,
        git_url=git_url,
        html_url=html_url,
        download_url=f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{path}" if text is not None else None,
        _links={"git": git_url, "self": self_url, "html": html_url},
    )
    if text is None:
        del body["content"], body["encoding"]
    elif not inline:
        body.update(content="", encoding="none")
    else:
        body["content"] = _base64_lines(data)
    return body


def blob(repo: Repo, sha: str, text: str, urls: Urls) -> dict:
    """A ``blob``: any version of a file a commit ever had, base64 whatever its size."""
    data = text.encode()
    return {"sha": sha, "node_id": node_id("Blob", sha), "size": len(data),
            "url": f"{urls.api}/repos/{repo.full_name}/git/blobs/{sha}", "content": _base64_lines(data),
            "encoding": "base64"}


def _base64_lines(data: bytes) -> str:
    """Base64 as GitHub sends a file's content: wrapped at 60 characters, each line ending in a newline."""
    encoded = base64.b64encode(data).decode()
    return "".join(encoded[i:i + 60] + "\n" for i in range(0, len(encoded), 60))


def team(item: "Team", urls: Urls) -> dict:
    """A ``team-full``: its name and slug, and its organisation's login."""
    body = template("team-full")
    body.update(id=item.id, node_id=node_id("Team", item.id), name=item.slug, slug=item.slug,
                url=f"{urls.api}/orgs/{item.org}/teams/{item.slug}",
                html_url=f"{urls.web}/orgs/{item.org}/teams/{item.slug}", members_count=len(item.members))
    if isinstance(body.get("organization"), dict):
        body["organization"].update(login=item.org)
    return body


def team_membership(team_id: int, login: str, role: str, urls: Urls) -> dict:
    body = template("team-membership")
    body.update(url=f"{urls.api}/teams/{team_id}/memberships/{login}", role=role, state="active")
    return body


def collaborator_permission(role: str, account: Account, urls: Urls) -> dict:
    """``permission`` is the legacy four-level name; ``role_name`` the role itself."""
    body = template("collaborator-permission")
    legacy = {"maintain": "write", "triage": "read"}.get(role, role)
    body.update(permission=legacy, role_name=role, user=user(account, urls))
    return body


def rate_limit(core: dict[str, int], reset_others: int) -> dict:
    """``rate-limit-overview``: ``core`` (and its alias ``rate``) from the caller's bucket; the
    other resources are not modelled and show an untouched window."""
    body = template("rate-limit-overview")
    for name, bucket in body["resources"].items():
        if name == "core":
            bucket.update(core)
        else:
            bucket.update(used=0, remaining=bucket["limit"], reset=reset_others)
    body["rate"] = dict(core)
    return body
