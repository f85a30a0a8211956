"""The sandbox GitHub behaves like GitHub where the bot relies on it: auth, errors, pagination,
conditional requests, rate limits, labels, reactions, faults, strictness and webhook shapes.

Checked through PyGithub itself and plain ``requests`` against the sandbox served on loopback.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import time
from datetime import datetime, timedelta, timezone

import github
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.test import Client

from bot.sandbox import Faults, RateLimits, Sandbox, SandboxServer
from bot.sandbox.api.routes import NOT_REST, ROUTES
from bot.sandbox.deliveries import example
from bot.sandbox.openapi import Checker
from sandbox_fixtures import APP_ID, OPENAPI_SUBSET

INSTALLATION = 7
FUND = "fund/applications"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
BAD_CREDENTIALS = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}


@pytest.fixture
def world(sandbox: Sandbox) -> Sandbox:
    """The fund's repository with the App installed, and an applicant's active project."""
    sandbox.add_repo(FUND)
    sandbox.add_team("fund", "reviewers", ["rita"])
    sandbox.set_permission(FUND, "carol", "write")
    sandbox.add_installation(INSTALLATION, "fund", [FUND])
    sandbox.add_repo("alice/widget", commits=[NOW - timedelta(days=d) for d in range(5)],
                     contributors=[("alice", "User", 40), ("bob", "User", 7), ("dependabot[bot]", "Bot", 3),
                                   ("Old Timer", "Anonymous", 2)])
    return sandbox


def app_github(server: SandboxServer, key: str) -> github.Github:
    """PyGithub as the bot uses it: the App's installation, no throttling, no retries."""
    auth = github.Auth.AppAuth(APP_ID, key).get_installation_auth(INSTALLATION)
    return github.Github(base_url=server.url, auth=auth, retry=None, seconds_between_requests=0, seconds_between_writes=0)


@functools.lru_cache(maxsize=4)
def _signing_key(pem: str):  # noqa: ANN202 - loading a PEM costs ~40 ms; do it once
    return serialization.load_pem_private_key(pem.encode(), password=None)


def jwt_headers(key: str, **claims: object) -> dict[str, str]:
    now = int(time.time())
    payload = {"iat": now - 60, "exp": now + 300, "iss": str(APP_ID), **claims}
    return {"Authorization": f"Bearer {jwt.encode(payload, _signing_key(key), algorithm='RS256')}"}


def installation_token(server: SandboxServer, key: str) -> dict[str, str]:
    answer = requests.post(f"{server.url}/app/installations/{INSTALLATION}/access_tokens", headers=jwt_headers(key))
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"token {answer.json()['token']}"}


# --- authentication ---------------------------------------------------------------------------


def test_pygithub_app_auth_exchanges_a_jwt_for_an_installation_token(world, sandbox_server, app_key):
    issue = app_github(sandbox_server, app_key).get_repo(FUND).create_issue("Hello", body="from the bot")

    token_calls = world.requests("POST", f"/app/installations/{INSTALLATION}/access_tokens")
    assert [r.status for r in token_calls] == [201]
    assert issue.user.login == "fund-bot[bot]" and issue.user.type == "Bot"
    assert world.issue(FUND, issue.number)["performed_via_github_app"]["slug"] == "fund-bot"


def test_installation_token_shape_and_one_hour_expiry(world, sandbox_server, app_key):
    answer = requests.post(f"{sandbox_server.url}/app/installations/{INSTALLATION}/access_tokens", headers=jwt_headers(app_key))
    body = answer.json()
    assert set(body) == set(example_shape("installation-token"))
    assert body["token"].startswith("ghs_")
    assert body["expires_at"] == (world.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {"Authorization": f"token {body['token']}"}
    assert requests.get(f"{sandbox_server.url}/repos/{FUND}", headers=headers).status_code == 200

    world.travel(timedelta(minutes=61))
    expired = requests.get(f"{sandbox_server.url}/repos/{FUND}", headers=headers)
    assert (expired.status_code, expired.json()) == (401, BAD_CREDENTIALS)


def example_shape(name: str) -> dict:
    from bot.sandbox.render import template
    return template(name)


@pytest.mark.parametrize(
    "claims, wrong_key",
    [
        ({"exp": -10, "iat": -300}, False),
        ({"exp": 1200}, False),
        ({"iss": "999"}, False),
        ({}, True),
    ],
    ids=["expired", "more-than-10-minutes-ahead", "other-app", "signed-by-another-key"],
)
def test_bad_app_jwt_is_refused(world, sandbox_server, app_key, claims, wrong_key):
    """``exp`` and ``iat`` are given in seconds from now, the moment the test runs (not the moment the
    tests are collected, which may be minutes earlier)."""
    now = int(time.time())
    claims = {name: now + value if name in ("exp", "iat") else value for name, value in claims.items()}
    key = app_key
    if wrong_key:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    answer = requests.post(f"{sandbox_server.url}/app/installations/{INSTALLATION}/access_tokens",
                           headers=jwt_headers(key, **claims))
    assert answer.status_code == 401
    assert world.requests("POST")[0].status == 401


@pytest.mark.parametrize(
    "method, path, headers, status, message",
    [
        ("GET", f"/repos/{FUND}", {"Authorization": "token nope"}, 401, "Bad credentials"),
        ("POST", f"/repos/{FUND}/issues", {}, 401, "Requires authentication"),
        ("GET", "/app", {"Authorization": "token ghp_alice"}, 401, "A JSON web token could not be decoded"),
        ("GET", f"/repos/{FUND}", {}, 200, None),
    ],
    ids=["unknown-token", "anonymous-write", "token-where-jwt-needed", "anonymous-public-read"],
)
def test_credentials(world, sandbox_server, method, path, headers, status, message):
    world.add_token("ghp_alice", "alice")
    answer = requests.request(method, sandbox_server.url + path, headers=headers,
                              json={"title": "x"} if method == "POST" else None)
    assert answer.status_code == status
    if message:
        assert answer.json()["message"] == message


def test_anonymous_reads_have_githubs_60_an_hour_limit(world, sandbox_server):
    answer = requests.get(f"{sandbox_server.url}/repos/alice/widget")
    assert answer.headers["X-RateLimit-Limit"] == "60"
    assert "permissions" not in answer.json()


def test_installation_token_reaches_only_its_installation(world, sandbox_server, app_key):
    world.add_repo("alice/secret", private=True)
    headers = installation_token(sandbox_server, app_key)
    secret = requests.get(f"{sandbox_server.url}/repos/alice/secret", headers=headers)
    write = requests.post(f"{sandbox_server.url}/repos/alice/widget/issues", headers=headers, json={"title": "x"})
    public = requests.get(f"{sandbox_server.url}/repos/alice/widget", headers=headers)
    assert (secret.status_code, secret.json()["message"]) == (404, "Not Found")
    assert (write.status_code, write.json()["message"]) == (403, "Resource not accessible by integration")
    assert public.status_code == 200


def test_the_log_never_holds_credentials(world, sandbox_server, app_key):
    headers = installation_token(sandbox_server, app_key)
    requests.get(f"{sandbox_server.url}/repos/{FUND}", headers=headers)
    logged = repr(world.requests())
    assert headers["Authorization"].split()[1] not in logged and "Bearer" not in logged
    assert world.requests("GET")[0].actor == "fund-bot[bot]"
    with pytest.raises(dataclasses.FrozenInstanceError):
        world.requests()[0].status = 500  # type: ignore[misc]


# --- the App-manifest flow ---------------------------------------------------------------------

MANIFEST = {"name": "My Fund Bot", "url": "https://example.org", "hook_attributes": {"url": "https://example.org/hook"},
            "redirect_url": "http://127.0.0.1:8123/callback", "public": False,
            "default_permissions": {"issues": "write", "metadata": "read", "contents": "read"},
            "default_events": ["issues", "issue_comment", "push"]}


def test_a_manifest_code_converts_once_into_the_app_and_its_credentials(world, sandbox_server):
    code = world.accept_manifest(MANIFEST, owner="fund")
    url = f"{sandbox_server.url}/app-manifests/{code}/conversions"
    answer = requests.post(url)  # no authentication: the code is the proof
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == set(example_shape("integration-from-manifest"))  # GitHub's example's keys
    assert (body["slug"], body["name"], body["owner"]["login"]) == ("my-fund-bot", "My Fund Bot", "fund")
    assert body["permissions"] == MANIFEST["default_permissions"] and body["events"] == MANIFEST["default_events"]
    assert body["pem"].startswith("-----BEGIN RSA PRIVATE KEY-----") and body["webhook_secret"]
    app = requests.get(f"{sandbox_server.url}/app", headers=jwt_headers(body["pem"], iss=str(body["id"])))
    assert app.status_code == 200 and app.json()["slug"] == "my-fund-bot"  # the key handed out is the App's
    assert requests.post(url).status_code == 404  # good once


@pytest.mark.parametrize("wait, code", [(timedelta(0), "0123456789abcdef0123"), (timedelta(minutes=61), None)],
                         ids=["unknown-code", "expired-code"])
def test_an_unknown_or_expired_code_is_404(world, sandbox_server, wait, code):
    code = code or world.accept_manifest(MANIFEST)
    world.travel(wait)
    answer = requests.post(f"{sandbox_server.url}/app-manifests/{code}/conversions")
    assert (answer.status_code, answer.json()["message"]) == (404, "Not Found")


@pytest.mark.parametrize(
    "change, problem",
    [({"url": ""}, "`url` is required"), ({"hook_attributes": {}}, "`hook_attributes.url`"),
     ({"default_events": ["push"], "default_permissions": {"issues": "write"}}, "event `push` needs the `contents`"),
     ({"default_permissions": {"issues": "admin!"}}, "read or write"), ({"colour": "red"}, "unknown parameter")],
    ids=["no-url", "no-webhook-url", "event-without-its-permission", "bad-access", "unknown-parameter"],
)
def test_a_manifest_github_would_refuse_is_refused(world, change, problem):
    with pytest.raises(ValueError, match="GitHub would refuse this manifest") as err:
        world.accept_manifest({**MANIFEST, **change})
    assert problem in str(err.value)


# --- repositories: the answers eligibility depends on ------------------------------------------


@pytest.mark.parametrize(
    "seed, path, status, message",
    [
        ({}, "/repos/alice/missing", 404, "Not Found"),
        ({"private": True}, "/repos/alice/project", 404, "Not Found"),
        ({"empty": True}, "/repos/alice/project/commits", 409, "Git Repository is empty."),
        ({"empty": True}, "/repos/alice/project/contributors", 204, None),
        ({"contributors_too_large": True}, "/repos/alice/project/contributors", 403,
         "The history or contributor list is too large to list contributors for this repository via the API."),
    ],
    ids=["missing-404", "private-404", "empty-commits-409", "empty-contributors-204", "huge-contributors-403"],
)
def test_repository_error_answers(world, sandbox_server, app_key, seed, path, status, message):
    world.add_repo("alice/project", **seed)
    answer = requests.get(sandbox_server.url + path, headers=installation_token(sandbox_server, app_key))
    assert answer.status_code == status
    if message is None:
        assert answer.content == b""
    else:
        assert answer.json()["message"] == message


def test_renamed_repository_answers_301_and_pygithub_follows(world, sandbox_server, app_key):
    world.rename_repo("alice/widget", "alice/gadget")
    raw = requests.get(f"{sandbox_server.url}/repos/alice/widget/commits?per_page=1", allow_redirects=False)
    repo_id = app_github(sandbox_server, app_key).get_repo("alice/widget").id  # PyGithub follows the 301

    location = f"{sandbox_server.url}/repositories/{repo_id}/commits?per_page=1"
    assert raw.status_code == 301 and raw.headers["Location"] == location
    assert raw.json()["message"] == "Moved Permanently" and raw.json()["url"] == location
    assert requests.get(location).json()[0]["sha"] == requests.get(f"{sandbox_server.url}/repos/alice/gadget/commits").json()[0]["sha"]
    assert app_github(sandbox_server, app_key).get_repo("alice/widget").full_name == "alice/gadget"


def test_writes_to_a_renamed_repository_get_307_and_change_nothing(world, sandbox_server, app_key):
    world.rename_repo(FUND, "fund/grants")
    answer = requests.post(f"{sandbox_server.url}/repos/{FUND}/issues", json={"title": "x"},
                           headers=installation_token(sandbox_server, app_key), allow_redirects=False)
    assert (answer.status_code, answer.json()["message"]) == (307, "Temporary Redirect")
    assert answer.headers["Location"].endswith("/issues") and world.pending_deliveries() == []
    assert requests.get(f"{sandbox_server.url}/repositories/999999").status_code == 404


@pytest.mark.parametrize(
    "spdx, expected",
    [
        ("MIT", {"key": "mit", "name": "MIT License", "spdx_id": "MIT"}),
        ("GPL-3.0", {"key": "gpl-3.0", "spdx_id": "GPL-3.0"}),
        ("NOASSERTION", {"key": "other", "name": "Other", "spdx_id": "NOASSERTION", "url": None}),
        (None, None),
    ],
    ids=["mit", "deprecated-gpl-id", "unidentified-file", "no-licence"],
)
def test_license_detection_shape(world, sandbox_server, spdx, expected):
    world.add_repo("alice/licensed", license_spdx=spdx)
    licence = requests.get(f"{sandbox_server.url}/repos/alice/licensed").json()["license"]
    if expected is None:
        assert licence is None
    else:
        assert {k: licence[k] for k in expected} == expected
        assert set(licence) >= {"key", "name", "spdx_id", "url", "node_id"}


def test_commits_are_newest_first_and_filtered_by_since(world, sandbox_server):
    commits = requests.get(f"{sandbox_server.url}/repos/alice/widget/commits",
                           params={"since": (NOW - timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}).json()
    dates = [c["commit"]["committer"]["date"] for c in commits]
    assert len(dates) == 3 and dates == sorted(dates, reverse=True)
    assert set(commits[0]) == set(example_shape("commit-items")[0])


def test_contributors_include_anonymous_only_with_anon(world, sandbox_server):
    plain = requests.get(f"{sandbox_server.url}/repos/alice/widget/contributors").json()
    anon = requests.get(f"{sandbox_server.url}/repos/alice/widget/contributors", params={"anon": "true"}).json()
    assert [c.get("login") for c in plain] == ["alice", "bob", "dependabot[bot]"]
    assert plain[2]["type"] == "Bot"
    assert anon[-1] == {"email": "old.timer@example.com", "name": "Old Timer", "type": "Anonymous", "contributions": 2}


def test_contents_are_base64_as_github_sends_them(world, sandbox_server):
    world.add_file("alice/widget", "docs/README.md", "# Widget\n" * 20)
    body = requests.get(f"{sandbox_server.url}/repos/alice/widget/contents/docs/README.md").json()
    assert base64.b64decode(body["content"]) == ("# Widget\n" * 20).encode()
    assert all(len(line) <= 60 for line in body["content"].splitlines())
    listing = requests.get(f"{sandbox_server.url}/repos/alice/widget/contents/docs").json()
    assert [(e["name"], e["type"]) for e in listing] == [("README.md", "file")]



@pytest.mark.parametrize(
    "size, encoding",
    [(1024 * 1024, "base64"), (1024 * 1024 + 1, "none"), (10 * 1024 * 1024, "none")],
    ids=["1-MB-inline", "over-1-MB-left-out", "10-MB-left-out"],
)
def test_a_file_of_any_size_is_served_as_github_serves_it(world, sandbox_server, size, encoding):
    text = ("limits: {}\n" * size)[:size]  # a .github/fund-bot.yml of `size` bytes
    world.add_file("alice/widget", ".github/fund-bot.yml", text)
    url = f"{sandbox_server.url}/repos/alice/widget/contents/.github/fund-bot.yml"
    body = requests.get(url).json()
    raw = requests.get(url, headers={"Accept": "application/vnd.github.raw+json"})
    listed = requests.get(f"{sandbox_server.url}/repos/alice/widget/contents/.github").json()

    assert (body["size"], body["encoding"], listed[0]["encoding"]) == (size, encoding, encoding)
    assert base64.b64decode(body["content"]) == (text.encode() if encoding == "base64" else b"")
    assert (raw.status_code, raw.headers["Content-Type"], raw.content) == (200, "application/vnd.github.raw", text.encode())
    cached = requests.get(url, headers={"Accept": "application/vnd.github.raw+json", "If-None-Match": raw.headers["ETag"]})
    assert cached.status_code == 304


def test_no_file_is_larger_than_githubs_100_mib(world):
    with pytest.raises(ValueError, match="100 MiB"):
        world.add_file("alice/widget", "huge.bin", "x" * (100 * 1024 * 1024 + 1))  # GitHub blocks such a push

# --- people: permissions, teams, associations --------------------------------------------------


@pytest.mark.parametrize(
    "login, association, permission, assignable",
    [
        ("fund", "OWNER", "admin", 204),
        ("rita", "MEMBER", "read", 204),
        ("carol", "COLLABORATOR", "write", 204),
        ("stranger", "NONE", "read", 404),
    ],
    ids=["owner", "team-member", "collaborator", "stranger"],
)
def test_people_and_their_standing(world, sandbox_server, app_key, login, association, permission, assignable):
    world.add_user("fund", "Organization")
    number = world.add_issue(FUND, login, "An application")
    gh = app_github(sandbox_server, app_key)
    headers = installation_token(sandbox_server, app_key)

    assert gh.get_repo(FUND).get_issue(number).raw_data["author_association"] == association
    assert gh.get_repo(FUND).get_collaborator_permission(login) == permission
    assert requests.get(f"{sandbox_server.url}/repos/{FUND}/assignees/{login}", headers=headers).status_code == assignable


def test_team_membership_404_for_non_members(world, sandbox_server, app_key):
    headers = installation_token(sandbox_server, app_key)
    member = requests.get(f"{sandbox_server.url}/orgs/fund/teams/reviewers/memberships/rita", headers=headers)
    other = requests.get(f"{sandbox_server.url}/orgs/fund/teams/reviewers/memberships/bob", headers=headers)
    assert member.json() == {"url": f"{sandbox_server.url}/teams/{member.json()['url'].split('/')[-3]}/memberships/rita",
                             "role": "member", "state": "active"}
    assert other.status_code == 404


# --- pagination, conditional requests, rate limits ---------------------------------------------


@pytest.mark.parametrize(
    "page, rels",
    [
        (1, {"next": 2, "last": 3}),
        (2, {"prev": 1, "next": 3, "last": 3, "first": 1}),
        (3, {"prev": 2, "first": 1}),
    ],
    ids=["first-page", "middle-page", "last-page"],
)
def test_link_header_as_github_formats_it(world, sandbox_server, page, rels):
    answer = requests.get(f"{sandbox_server.url}/repos/alice/widget/commits", params={"per_page": 2, "page": page})
    repo_id = requests.get(f"{sandbox_server.url}/repos/alice/widget").json()["id"]
    expected = ", ".join(
        f'<{sandbox_server.url}/repositories/{repo_id}/commits?per_page=2&page={n}>; rel="{rel}"' for rel, n in rels.items()
    )
    assert answer.headers["Link"] == expected
    assert len(answer.json()) == (1 if page == 3 else 2)


def test_counting_through_the_last_page_link(world, sandbox_server, app_key):
    repo = app_github(sandbox_server, app_key).get_repo("alice/widget")
    assert repo.get_contributors(anon="true").totalCount == 4
    answer = requests.get(f"{sandbox_server.url}/repos/alice/widget/contributors", params={"per_page": 1, "anon": "true"})
    assert answer.links["last"]["url"].endswith("page=4")
    assert "Link" not in requests.get(f"{sandbox_server.url}/repos/alice/widget/contributors", params={"per_page": 100}).headers


def test_conditional_request_304_costs_nothing(world, sandbox_server, app_key):
    headers = installation_token(sandbox_server, app_key)
    first = requests.get(f"{sandbox_server.url}/repos/alice/widget", headers=headers)
    again = requests.get(f"{sandbox_server.url}/repos/alice/widget", headers={**headers, "If-None-Match": first.headers["ETag"]})

    assert first.headers["ETag"].startswith('W/"')
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["X-RateLimit-Remaining"] == first.headers["X-RateLimit-Remaining"]
    assert world.request_counts() == type(world.request_counts())(reads=1, writes=0, not_modified=1, auth=1)
    assert world.requests("GET")[1].conditional and world.requests("GET")[1].not_modified


def test_etag_changes_when_the_resource_does(world, sandbox_server):
    first = requests.get(f"{sandbox_server.url}/repos/{FUND}/issues")
    world.add_issue(FUND, "alice", "new")
    again = requests.get(f"{sandbox_server.url}/repos/{FUND}/issues", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and len(again.json()) == 1


def test_rate_limit_exhaustion(world, sandbox_server, app_key):
    world.rate_limits = RateLimits(installation=2)
    headers = installation_token(sandbox_server, app_key)
    window_opened = world.now()  # the limit's hour starts with the first counted request
    first = requests.get(f"{sandbox_server.url}/repos/alice/widget", headers=headers)
    requests.get(f"{sandbox_server.url}/rate_limit", headers=headers)  # does not count
    requests.get(f"{sandbox_server.url}/repos/{FUND}", headers=headers)
    refused = requests.get(f"{sandbox_server.url}/repos/alice/widget", headers=headers)
    still_cached = requests.get(f"{sandbox_server.url}/repos/alice/widget", headers={**headers, "If-None-Match": first.headers["ETag"]})

    assert refused.status_code == 403
    assert refused.json()["message"] == f"API rate limit exceeded for installation ID {INSTALLATION}."
    assert refused.headers["X-RateLimit-Remaining"] == "0" and refused.headers["X-RateLimit-Used"] == "2"
    reset = int(refused.headers["X-RateLimit-Reset"])
    # Between the window's opening and now (the test may straddle a second boundary).
    assert int((window_opened + timedelta(hours=1)).timestamp()) <= reset <= int((world.now() + timedelta(hours=1)).timestamp())
    assert still_cached.status_code == 304
    world.travel(timedelta(hours=1, seconds=1))
    assert requests.get(f"{sandbox_server.url}/repos/alice/widget", headers=headers).status_code == 401  # token expired too


# --- labels and reactions -----------------------------------------------------------------------


def test_adding_labels_creates_missing_ones_and_answers_the_full_list(world, sandbox_server, app_key):
    issue = app_github(sandbox_server, app_key).get_repo(FUND).create_issue("App", labels=["bug"])
    headers = installation_token(sandbox_server, app_key)
    answer = requests.post(f"{sandbox_server.url}/repos/{FUND}/issues/{issue.number}/labels", headers=headers,
                           json={"labels": ["stage: technical"]})

    assert answer.status_code == 200
    assert [lab["name"] for lab in answer.json()] == ["bug", "stage: technical"]
    assert answer.json()[1]["color"] == "ededed"
    assert answer.json()[1]["url"].endswith("/labels/stage%3A%20technical")


def test_label_names_are_case_insensitive_and_unique(world, sandbox_server, app_key):
    repo = app_github(sandbox_server, app_key).get_repo(FUND)
    repo.create_label("stage: technical", "0e8a16", "Technical review")
    with pytest.raises(github.GithubException) as refused:
        repo.create_label("Stage: Technical", "ffffff")
    assert refused.value.status == 422
    assert refused.value.data["errors"] == [{"resource": "Label", "code": "already_exists", "field": "name"}]
    assert repo.get_label("STAGE: TECHNICAL").color == "0e8a16"


def test_removing_a_label_the_issue_lacks_is_404(world, sandbox_server, app_key):
    issue = app_github(sandbox_server, app_key).get_repo(FUND).create_issue("App", labels=["bug"])
    issue.add_to_labels("stage: technical")
    issue.remove_from_labels("stage: technical")  # PyGithub URL-encodes the name
    with pytest.raises(github.GithubException) as missing:
        issue.remove_from_labels("stage: technical")
    assert (missing.value.status, missing.value.data["message"]) == (404, "Label does not exist")
    assert [lab.name for lab in issue.get_labels()] == ["bug"]


def test_open_issue_keeps_only_existing_labels_as_issue_forms_do(world):
    world.add_label(FUND, "fund: application", "0366d6")
    delivery = world.open_issue(FUND, "alice", "Widget", "body", labels=["fund: application", "no-such-label"])
    assert [lab["name"] for lab in delivery.payload["issue"]["labels"]] == ["fund: application"]
    assert [(d.event, d.action) for d in world.pending_deliveries()] == [("issues", "labeled")]


def test_reactions_201_when_new_200_when_repeated_and_rolled_up(world, sandbox_server, app_key):
    world.add_issue(FUND, "alice", "App")
    world.react(FUND, 1, "bob", "-1")
    issue = app_github(sandbox_server, app_key).get_repo(FUND).get_issue(1)
    headers = installation_token(sandbox_server, app_key)
    url = f"{sandbox_server.url}/repos/{FUND}/issues/1/reactions"

    statuses = [requests.post(url, headers=headers, json={"content": "+1"}).status_code for _ in range(2)]
    rollup = requests.get(f"{sandbox_server.url}/repos/{FUND}/issues/1").json()["reactions"]
    assert statuses == [201, 200]
    assert (rollup["+1"], rollup["-1"], rollup["total_count"]) == (1, 1, 2)
    assert [r.content for r in issue.get_reactions()] == ["-1", "+1"]


def test_comments_keep_counts_and_bump_updated_at(world, sandbox_server, app_key):
    world.add_issue(FUND, "alice", "App")
    before = world.issue(FUND, 1)["updated_at"]
    world.travel(timedelta(minutes=5))
    comment = app_github(sandbox_server, app_key).get_repo(FUND).get_issue(1).create_comment("Thanks!")
    world.travel(timedelta(minutes=5))
    comment.edit("Thanks, checking.")

    issue = world.issue(FUND, 1)
    assert issue["comments"] == 1 and issue["updated_at"] > before
    assert world.comments(FUND, 1)[0]["body"] == "Thanks, checking."
    assert world.comments(FUND, 1)[0]["updated_at"] > world.comments(FUND, 1)[0]["created_at"]


def test_listing_issues_by_labels_all_must_match(world, sandbox_server):
    world.add_issue(FUND, "alice", "one", labels=["fund: application", "stage: technical"])
    world.add_issue(FUND, "bob", "two", labels=["fund: application"])
    world.add_issue(FUND, "carol", "three", labels=["fund: application", "stage: technical"], state="closed")
    listed = requests.get(f"{sandbox_server.url}/repos/{FUND}/issues",
                          params={"labels": "Fund: Application,stage: technical", "state": "all", "direction": "asc"})
    assert [i["title"] for i in listed.json()] == ["one", "three"]


# --- deleted and transferred issues -----------------------------------------------------------


def test_a_deleted_issue_is_gone_410_to_those_who_may_read_the_repository(world, sandbox_server, app_key):
    world.add_repo("fund/private-intake", private=True)
    for repo in (FUND, "fund/private-intake"):
        world.add_issue(repo, "alice", "App")
        world.add_issue(repo, "bob", "Another")
    comment_id = world.add_comment(FUND, 1, "rita", "Looking")
    world.delete_issue(FUND, 1)
    world.delete_issue("fund/private-intake", 1)
    headers = installation_token(sandbox_server, app_key)

    def answer(path: str, **kwargs: object) -> tuple[int, str]:
        got = requests.get(sandbox_server.url + path, **kwargs)
        return got.status_code, got.json()["message"] if got.status_code >= 400 else ""

    assert answer(f"/repos/{FUND}/issues/1", headers=headers) == (410, "This issue was deleted")
    assert answer(f"/repos/{FUND}/issues/1/comments", headers=headers) == (410, "This issue was deleted")
    assert answer(f"/repos/{FUND}/issues/comments/{comment_id}", headers=headers) == (404, "Not Found")
    assert answer("/repos/fund/private-intake/issues/1") == (404, "Not Found")  # who may not read it learns nothing
    assert [i["number"] for i in requests.get(f"{sandbox_server.url}/repos/{FUND}/issues?state=all").json()] == [2]
    assert world.add_issue(FUND, "carol", "Third") == 3  # GitHub never reuses a number


def test_a_transferred_issue_answers_301_to_its_new_address(world, sandbox_server, app_key):
    world.add_repo("fund/archive")
    world.add_issue(FUND, "alice", "App", labels=["bug", "stage: technical"], assignees=["rita"])
    world.add_comment(FUND, 1, "rita", "Looking")
    number = world.transfer_issue(FUND, 1, "fund/archive")
    old = f"{sandbox_server.url}/repos/{FUND}/issues/1"
    new = f"{sandbox_server.url}/repos/fund/archive/issues/{number}"

    raw = requests.get(old, allow_redirects=False)
    comments = requests.get(f"{old}/comments?per_page=5", allow_redirects=False)
    followed = app_github(sandbox_server, app_key).get_repo(FUND).get_issue(1)  # PyGithub follows the 301
    assert (raw.status_code, raw.headers["Location"], raw.json()["message"]) == (301, new, "Moved Permanently")
    assert comments.status_code == 301 and comments.headers["Location"] == f"{new}/comments?per_page=5"
    assert [c["body"] for c in requests.get(comments.headers["Location"]).json()] == ["Looking"]
    assert (followed.number, followed.repository.full_name) == (number, "fund/archive")
    assert [lab.name for lab in followed.labels] == ["bug"]  # the archive has no "stage: technical"
    assert [a.login for a in followed.assignees] == ["rita"]
    assert requests.get(f"{sandbox_server.url}/repos/{FUND}/issues?state=all").json() == []
    with pytest.raises(ValueError, match="of fund"):
        world.transfer_issue("fund/archive", number, "alice/widget")


# --- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "faults, status, message",
    [
        (Faults(error_rate=1.0), 502, "Server Error"),
        (Faults(secondary_rate_limit_rate=1.0, retry_after=7), 403, "You have exceeded a secondary rate limit"),
    ],
    ids=["server-error", "secondary-rate-limit"],
)
def test_faulted_write_changes_nothing(world, sandbox_server, app_key, faults, status, message):
    headers = installation_token(sandbox_server, app_key)
    world.faults = faults
    answer = requests.post(f"{sandbox_server.url}/repos/{FUND}/issues", headers=headers, json={"title": "x"})
    world.faults = Faults()

    assert answer.status_code == status and answer.json()["message"].startswith(message)
    if status == 403:
        assert answer.headers["Retry-After"] == "7"
    assert requests.get(f"{sandbox_server.url}/repos/{FUND}/issues").json() == []
    assert world.pending_deliveries() == []


def test_faults_are_deterministic_per_seed_and_reach_token_requests(world, app_key):
    def outcomes(seed: int) -> list[int]:
        sb = Sandbox()
        sb.register_app(APP_ID, app_key)
        sb.add_repo(FUND)
        sb.add_installation(INSTALLATION, "fund", [FUND])
        sb.faults = Faults(error_rate=0.5, seed=seed)
        client = Client(sb.wsgi_app)
        return [client.post(f"/app/installations/{INSTALLATION}/access_tokens", headers=jwt_headers(app_key)).status_code
                for _ in range(12)]

    assert outcomes(3) == outcomes(3)
    assert set(outcomes(3)) == {201, 502}


def test_latency_is_added(world, sandbox_server, monkeypatch):
    from bot.sandbox.api import dispatch as api

    slept = []
    monkeypatch.setattr(api.time, "sleep", slept.append)
    world.faults = Faults(latency_ms=60)
    requests.get(f"{sandbox_server.url}/repos/alice/widget")
    assert slept == [0.06]


# --- strictness ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, body, status, violation",
    [
        ("GET", "/repos/alice/widget/pulls", None, 404, "GitHub has GET /repos/{owner}/{repo}/pulls, but the sandbox does not implement it"),
        ("GET", "/repos/alice/widget/frobnicate", None, 404, "GitHub has no such endpoint"),
        ("POST", f"/repos/{FUND}/issues", {"body": "no title"}, 422, "request body: (body): 'title' is a required property"),
        ("POST", f"/repos/{FUND}/issues/1/reactions", {"content": "thumbsup"}, 422, "request body: content:"),
        ("GET", f"/repos/{FUND}/issues?state=opened", None, 422, "query parameter `state`='opened'"),
        ("GET", f"/repos/{FUND}/issues?colour=red", None, 422, "query parameter `colour` is not one GitHub accepts"),
        ("GET", f"/repos/{FUND}/issues?milestone=1", None, 422, "query parameter `milestone` is not implemented by the sandbox"),
        ("PATCH", f"/repos/{FUND}/issues/1", {"milestone": 1}, 422, "the sandbox does not model body field(s) milestone"),
    ],
    ids=["github-has-it", "github-lacks-it", "body-missing-required", "body-bad-enum", "query-bad-enum",
         "query-unknown-to-github", "query-not-implemented", "body-field-not-modelled"],
)
def test_wrong_requests_are_refused_and_recorded(world, sandbox_server, app_key, method, path, body, status, violation):
    world.add_issue(FUND, "alice", "App")
    answer = requests.request(method, sandbox_server.url + path, json=body, headers=installation_token(sandbox_server, app_key))
    recorded, world.violations[:] = list(world.violations), []  # this test expects them

    assert answer.status_code == status
    assert len(recorded) == 1 and violation in recorded[0], recorded


def test_every_route_is_in_the_vendored_openapi_subset():
    checker = Checker.load(OPENAPI_SUBSET)
    for route in ROUTES:
        if route.template in NOT_REST:  # GraphQL: not in the REST API's description
            continue
        assert route.method.lower() in checker.paths[route.template], f"{route.method} {route.template}"
        for name in route.params:
            assert checker.knows_query(route.method, route.template, name), f"{route.template}?{name}"


def test_wsgi_app_serves_in_process(world):
    answer = Client(world.wsgi_app).get("/repos/alice/widget/contributors?per_page=2")
    assert answer.status_code == 200 and len(answer.json) == 2
    assert answer.headers["Link"].startswith("<http://localhost/repositories/")


# --- deliveries ---------------------------------------------------------------------------------


def _act(sb: Sandbox, action: str):
    sb.add_label(FUND, "fund: application")
    number = sb.add_issue(FUND, "alice", "Widget", "body")
    comment_id = sb.add_comment(FUND, number, "alice", "first")
    return {
        "issues.opened": lambda: sb.open_issue(FUND, "alice", "Gadget", "body", labels=["fund: application"]),
        "issues.edited": lambda: sb.edit_issue(FUND, number, "alice", body="better body"),
        "issues.labeled": lambda: sb.label_issue(FUND, number, "rita", "fund: application"),
        "issues.unlabeled": lambda: (sb.label_issue(FUND, number, "rita", "bug"), sb.unlabel_issue(FUND, number, "rita", "bug"))[1],
        "issues.closed": lambda: sb.close_issue(FUND, number, "alice"),
        "issues.reopened": lambda: (sb.close_issue(FUND, number, "alice"), sb.reopen_issue(FUND, number, "alice"))[1],
        "issue_comment.created": lambda: sb.comment(FUND, number, "rita", "/advance"),
        "issue_comment.edited": lambda: sb.edit_comment(FUND, comment_id, "alice", "second"),
        "issue_comment.deleted": lambda: sb.delete_comment(FUND, comment_id, "alice"),
    }[action]()


@pytest.mark.parametrize(
    "action",
    ["issues.opened", "issues.edited", "issues.labeled", "issues.unlabeled", "issues.closed", "issues.reopened",
     "issue_comment.created", "issue_comment.edited", "issue_comment.deleted"],
)
def test_delivery_has_the_octokit_example_shape(world, action):
    delivery = _act(world, action)
    shape = example(*action.split("."))
    event, name = action.split(".")

    assert (delivery.event, delivery.payload["action"]) == (event, name)
    optional = {"organization", "installation"}
    assert set(delivery.payload) - optional == set(shape) - optional
    assert delivery.payload["installation"]["id"] == INSTALLATION
    assert set(shape["issue"]) <= set(delivery.payload["issue"])
    assert set(delivery.payload["repository"]) == set(shape["repository"])
    if "comment" in shape:
        assert set(shape["comment"]) <= set(delivery.payload["comment"])
    assert len(delivery.id) == 36 and delivery.id != world.comment(FUND, 1, "bob", "again").id


def test_edits_carry_changes(world):
    number = world.add_issue(FUND, "alice", "Widget", "old body")
    delivery = world.edit_issue(FUND, number, "alice", title="Widget 2", body="new body")
    assert delivery.payload["changes"] == {"title": {"from": "Widget"}, "body": {"from": "old body"}}


def test_the_bots_own_writes_queue_deliveries_from_a_bot(world, sandbox_server, app_key):
    world.add_issue(FUND, "alice", "App")
    world.react(FUND, 1, "bob", "+1")  # reactions send nothing
    app_github(sandbox_server, app_key).get_repo(FUND).get_issue(1).create_comment("<!-- fund-bot:status -->")

    [delivery] = world.pending_deliveries()
    assert (delivery.event, delivery.action) == ("issue_comment", "created")
    assert delivery.payload["sender"]["type"] == "Bot" and delivery.payload["sender"]["login"] == "fund-bot[bot]"
    assert delivery.payload["comment"]["user"]["login"] == "fund-bot[bot]"
    assert world.pending_deliveries() == []


def test_delivery_headers_are_signed_over_the_body(world):
    import hashlib
    import hmac

    delivery = world.comment(FUND, world.add_issue(FUND, "alice", "App"), "bob", "hi")
    headers = delivery.headers("s3cret")
    expected = "sha256=" + hmac.new(b"s3cret", delivery.body(), hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == expected
    assert (headers["X-GitHub-Event"], headers["X-GitHub-Delivery"]) == ("issue_comment", delivery.id)
