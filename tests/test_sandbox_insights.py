"""The sandbox serves what the evidence pack reads (issue 21) as GitHub and the outside services answer it:
statistics that are computed (202), empty (204) or refused past 10,000 commits (422); a fork without a
community profile; stargazers with `starred_at` only for their media type, paged at most 400 deep; releases;
the comments of every issue; and Scorecard, deps.dev, pypistats and npm in their documented shapes, with
trouble of their own. Checked with plain `requests` against the sandbox served on loopback."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from bot.sandbox import Sandbox, SandboxServer

NOW = datetime.now(timezone.utc).replace(microsecond=0)
REPO = "alice/widget"


@pytest.fixture
def served(sandbox: Sandbox, sandbox_server: SandboxServer):
    sandbox.add_repo(REPO, commits=[(NOW - timedelta(days=d), "alice" if d % 3 else "bob") for d in range(1, 13)],
                     description="A widget")
    return sandbox, sandbox_server.url


def get(url: str, path: str, **headers: str) -> requests.Response:
    return requests.get(url + path, headers=headers, timeout=5)


def test_statistics_are_computed_then_served_and_refused_past_ten_thousand_commits(served):
    sandbox, url = served
    sandbox.compute_stats_slowly(REPO, answers=1)
    assert get(url, f"/repos/{REPO}/stats/contributors").status_code == 202
    people = get(url, f"/repos/{REPO}/stats/contributors").json()
    assert {p["author"]["login"]: p["total"] for p in people} == {"alice": 8, "bob": 4}
    assert all({"w", "a", "d", "c"} <= set(w) for p in people for w in p["weeks"])
    assert get(url, f"/repos/{REPO}/stats/participation").status_code == 202
    weekly = get(url, f"/repos/{REPO}/stats/participation").json()
    assert len(weekly["all"]) == len(weekly["owner"]) == 52 and sum(weekly["all"]) == 12  # today not yet counted
    sandbox.set_history_size(REPO, 10_000)
    refused = get(url, f"/repos/{REPO}/stats/contributors")
    assert refused.status_code == 422 and "10,000 commits" in refused.json()["message"]
    sandbox.add_repo("alice/empty", empty=True)
    assert get(url, "/repos/alice/empty/stats/participation").status_code == 204


def test_the_community_profile_and_a_fork(served):
    sandbox, url = served
    for path in ("README.md", "CONTRIBUTING.md", ".github/ISSUE_TEMPLATE/bug.yml"):
        sandbox.add_file(REPO, path, "text")
    profile = get(url, f"/repos/{REPO}/community/profile").json()
    files = profile["files"]
    assert files["readme"] and files["contributing"] and files["issue_template"] and files["license"]
    assert files["code_of_conduct"] is None and files["pull_request_template"] is None
    assert profile["health_percentage"] == 100 * 5 // 7  # description, README, CONTRIBUTING, licence, templates
    sandbox.fork_repo(REPO, "bob/widget")
    assert get(url, "/repos/bob/widget").json()["parent"]["full_name"] == REPO
    assert get(url, "/repos/bob/widget/community/profile").status_code == 404  # refused for a fork


def test_stargazers_carry_when_only_for_their_media_type_and_releases_hide_drafts(served):
    sandbox, url = served
    sandbox.add_stars(REPO, [(f"fan{i}", NOW - timedelta(days=i)) for i in range(3)])
    plain = get(url, f"/repos/{REPO}/stargazers").json()
    timed = get(url, f"/repos/{REPO}/stargazers", Accept="application/vnd.github.star+json").json()
    assert "starred_at" not in plain[0] and [s["user"]["login"] for s in timed] == ["fan2", "fan1", "fan0"]
    assert get(url, f"/repos/{REPO}").json()["stargazers_count"] == 3
    assert get(url, f"/repos/{REPO}/stargazers?per_page=100&page=401").status_code == 422
    sandbox.add_release(REPO, "v1.0.0", NOW - timedelta(days=30))
    sandbox.add_release(REPO, "v2.0.0-draft", None)
    assert [r["tag_name"] for r in get(url, f"/repos/{REPO}/releases").json()] == ["v1.0.0"]


def test_pull_requests_are_listed_with_issues_and_every_comment_of_the_repository(served):
    sandbox, url = served
    opened = NOW - timedelta(days=3)
    sandbox.add_thread(REPO, "stranger", opened, answers=[("alice", opened + timedelta(hours=2))])
    sandbox.add_thread(REPO, "helper", opened, pull_request=True, merged_at=opened + timedelta(days=1),
                       answers=[("bob", opened + timedelta(hours=5))])
    listed = get(url, f"/repos/{REPO}/issues?state=all").json()
    assert [("pull_request" in i, i["author_association"]) for i in listed] == [(True, "NONE"), (False, "NONE")]
    assert listed[0]["pull_request"]["merged_at"] and listed[0]["state"] == "closed"
    comments = get(url, f"/repos/{REPO}/issues/comments?sort=created&direction=asc").json()
    assert [c["user"]["login"] for c in comments] == ["alice", "bob"]
    assert comments[0]["issue_url"].endswith("/issues/1")


def test_the_outside_services_answer_in_their_documented_shapes_with_their_own_trouble(served):
    sandbox, url = served
    sandbox.score_project(REPO, 7.5, {"Maintained": 10, "Code-Review": 4})
    sandbox.add_package("pypi", "Widget_Kit", version="1.0", dependents=9, direct=3, month=300)
    result = get(url, f"/scorecard/projects/github.com/{REPO}").json()
    assert result["score"] == 7.5 and {c["name"]: c["score"] for c in result["checks"]} == {"Maintained": 10,
                                                                                             "Code-Review": 4}
    assert result["repo"]["name"] == f"github.com/{REPO}" and "version" in result["scorecard"]
    assert get(url, "/scorecard/projects/github.com/nobody/nothing").json()["code"] == 404
    counts = get(url, "/depsdev/v3alpha/systems/PYPI/packages/widget-kit/versions/1.0:dependents").json()
    assert counts == {"dependentCount": 9, "directDependentCount": 3, "indirectDependentCount": 6}
    recent = get(url, "/pypistats/api/packages/widget.kit/recent").json()  # PEP 503: the same package
    assert recent["type"] == "recent_downloads" and recent["data"]["last_month"] == 300
    assert get(url, "/npm/downloads/point/last-month/widget-kit").json()["error"].endswith("not found")
    sandbox.trouble("pypistats", status=500)
    assert get(url, "/pypistats/api/packages/widget-kit/recent").status_code == 500
    assert sandbox.outside_requests("scorecard") == [f"/projects/github.com/{REPO}", "/projects/github.com/nobody/nothing"]
    assert len([r for r in sandbox.requests() if r.path.startswith(("/scorecard", "/npm"))]) == 0  # not GitHub's log
