"""The gateway: retries with bounded backoff, conditional requests, and installation tokens."""
import datetime as dt

import pytest
from sandbox_fixtures import APP_ID

from bot.config.settings import Settings
from bot.demo.world import FUND_REPO, INSTALLATION_ID
from bot.github.app import GitHubApp
from bot.github.transport import GitHubUnavailable, NotFound, RetryPolicy, retry_delay
from bot.sandbox import Faults

POLICY = RetryPolicy(attempts=5, base_delay=1.0, max_delay=30.0, max_wait=60.0)
NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    "verb, status, headers, data, attempt, expected",
    [
        ("GET", 502, {}, None, 1, 1.0),
        ("GET", 502, {}, None, 3, 4.0),
        ("POST", 503, {}, None, 2, 2.0),
        ("GET", 500, {}, None, 1, 1.0),
        ("POST", 500, {}, None, 1, None),  # a POST that failed inside GitHub may have happened: don't repeat
        ("GET", None, {}, None, 1, 1.0),  # connection error
        ("GET", 403, {"retry-after": "7"}, {"message": "You have exceeded a secondary rate limit."}, 1, 7.0),
        ("GET", 403, {}, {"message": "You have exceeded a secondary rate limit."}, 1, 60.0),
        ("GET", 429, {"retry-after": "3"}, {}, 1, 3.0),
        ("GET", 403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 120)},
         {"message": "API rate limit exceeded"}, 1, 121.0),
        ("GET", 403, {}, {"message": "Resource not accessible by integration"}, 1, None),
        ("GET", 404, {}, {"message": "Not Found"}, 1, None),
        ("PATCH", 422, {}, {"message": "Validation Failed"}, 1, None),
        ("GET", 502, {}, None, 7, 30.0),  # one step never longer than max_delay
    ],
    ids=["502", "502-third", "503-post", "500-get", "500-post", "connection", "secondary-retry-after",
         "secondary-no-header", "429", "primary-reset", "forbidden", "404", "422", "capped-step"],
)
def test_retry_delay(verb, status, headers, data, attempt, expected):
    assert retry_delay(verb, status, headers, data, attempt, POLICY, NOW) == expected


@pytest.fixture
def github(sandbox, sandbox_server, app_key):
    sandbox.add_user("open-source-fund", "Organization")
    sandbox.add_repo(FUND_REPO)
    sandbox.add_installation(INSTALLATION_ID, "open-source-fund", [FUND_REPO])
    slept = []
    settings = Settings(api_url=sandbox_server.url, app_id=APP_ID, private_key=app_key)
    app = GitHubApp(settings, clock=sandbox.now, sleep=slept.append, policy=RetryPolicy(max_wait=60))
    app.slept = slept
    sandbox.clear_log()
    return app


def test_faults_are_retried_with_backoff_and_retry_after(sandbox, github):
    gateway = github.for_installation(INSTALLATION_ID)
    gateway.repository(FUND_REPO)  # token fetched; now make GitHub misbehave
    sandbox.faults = Faults(error_rate=0.15, secondary_rate_limit_rate=0.15, retry_after=2, seed=1)
    for _ in range(10):
        assert gateway.repository(FUND_REPO).full_name == FUND_REPO
    assert gateway.stats.retries > 0
    assert 2.0 in github.slept  # the secondary limit's Retry-After was honoured
    assert sum(github.slept) <= 10 * 60


def test_a_worker_never_waits_past_its_budget(sandbox, github):
    gateway = github.for_installation(INSTALLATION_ID)
    gateway.repository(FUND_REPO)
    sandbox.faults = Faults(secondary_rate_limit_rate=1.0, retry_after=3600)
    with pytest.raises(GitHubUnavailable):
        gateway.repository(FUND_REPO)
    assert sum(github.slept) == 0  # an hour's Retry-After is refused at once, not slept


def test_an_outage_ends_in_github_unavailable(sandbox, github):
    gateway = github.for_installation(INSTALLATION_ID)
    gateway.repository(FUND_REPO)
    sandbox.faults = Faults(error_rate=1.0)
    with pytest.raises(GitHubUnavailable):
        gateway.repository(FUND_REPO)
    assert len(github.slept) == 4 and sum(github.slept) <= 60  # five tries in all


def test_unchanged_reads_are_answered_by_304s(sandbox, github):
    gateway = github.for_installation(INSTALLATION_ID)
    first = gateway.repository(FUND_REPO)
    sandbox.clear_log()
    again = github.for_installation(INSTALLATION_ID).repository(FUND_REPO)  # a later delivery
    assert again == first
    [request] = sandbox.requests(path=f"/repos/{FUND_REPO}")
    assert request.conditional and request.not_modified
    assert sandbox.request_counts().not_modified == 1


def test_installation_tokens_are_cached_until_shortly_before_expiry(sandbox, github):
    for _ in range(3):
        github.for_installation(INSTALLATION_ID).repository(FUND_REPO)
    assert len(sandbox.requests(method="POST", path="/app/installations/*/access_tokens")) == 1
    sandbox.travel(dt.timedelta(minutes=56))  # tokens live an hour; renew five minutes early
    github.for_installation(INSTALLATION_ID).repository(FUND_REPO)
    assert len(sandbox.requests(method="POST", path="/app/installations/*/access_tokens")) == 2


def test_a_token_github_refuses_is_renewed_once(sandbox, sandbox_server, app_key):
    # The bot's clock runs two hours behind GitHub's: by its own reckoning the token is still valid.
    settings = Settings(api_url=sandbox_server.url, app_id=APP_ID, private_key=app_key)
    sandbox.add_user("open-source-fund", "Organization")
    sandbox.add_repo(FUND_REPO)
    sandbox.add_installation(INSTALLATION_ID, "open-source-fund", [FUND_REPO])
    lagging = GitHubApp(settings, clock=lambda: sandbox.now() - dt.timedelta(hours=2), sleep=lambda _: None)
    gateway = lagging.for_installation(INSTALLATION_ID)
    gateway.repository(FUND_REPO)
    sandbox.travel(dt.timedelta(minutes=61))  # GitHub has expired the token
    sandbox.clear_log()
    assert gateway.repository(FUND_REPO).full_name == FUND_REPO
    assert [(r.method, r.status) for r in sandbox.requests()] == [("GET", 401), ("POST", 201), ("GET", 304)]


def test_not_found_is_typed(github):
    with pytest.raises(NotFound):
        github.for_installation(INSTALLATION_ID).repository("nobody/nothing")


def test_the_repository_installation_is_looked_up_once(sandbox, github):
    for _ in range(2):
        github.for_repository(FUND_REPO).repository(FUND_REPO)
    assert len(sandbox.requests(path=f"/repos/{FUND_REPO}/installation")) == 1
