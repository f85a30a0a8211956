"""Shared pytest fixtures: the app, its test client, and the one sandbox GitHub."""
from sandbox_fixtures import *  # noqa: F401,F403  (sandbox, sandbox_server fixtures)
from redis_fixtures import *  # noqa: F401,F403  (redis_server, redis_url: Debian's redis-server)
from browser_fixtures import browser, playwright  # noqa: F401  (Debian's Chromium through Playwright)

import pytest

from bot.config.rules import load_rules
from bot.config.settings import DEFAULT_RULES_DIR, DEFAULT_TEMPLATES_DIR
from bot.policy.rules import Rules


@pytest.fixture(scope="session")
def rules() -> Rules:
    """The shipped rules: tests and documentation rely on their defaults (SPEC)."""
    return load_rules(DEFAULT_RULES_DIR, DEFAULT_TEMPLATES_DIR)


@pytest.fixture
def make_world(sandbox, sandbox_server, app_key):
    """Makes the fund's repository on the sandbox GitHub with the real service wired to it, as a module's
    tests need it (`workers=8`, `redis_url=...`: `World`'s options); each is closed after the test."""
    from sandbox_fixtures import APP_ID

    from bot.demo.world import World

    made = []

    def make(*applicant_repos: str, **options):
        made.append(World(sandbox, sandbox_server.url, APP_ID, app_key, **options))
        for repo in applicant_repos:
            made[-1].add_applicant_repo(repo)
        return made[-1]

    yield make
    for world in made:
        world.close()


@pytest.fixture
def world(make_world, sandbox):
    """The fund's repository on the sandbox GitHub, with the real service wired to it."""
    made = make_world()
    sandbox.clear_log()
    return made


@pytest.fixture
def frozen(request, app_key):
    """A world whose clock stands still unless a test moves it (no midnight surprises): at the test
    module's `START` when it has one (the sweep's day arithmetic is written for 15:00 UTC), else at
    `pipeline_world.START`."""
    import pipeline_world

    with pipeline_world.frozen_world(app_key, getattr(request.module, "START", pipeline_world.START)) as world:
        yield world


@pytest.fixture(scope="module")
def seeded_pair(app_key):
    """A frozen world with a dozen applications in every stage (`pipeline_world.seed_pipeline`), shared
    by a module of tests that only read it."""
    from pipeline_world import seeded_world

    with seeded_world(app_key) as pair:
        yield pair


@pytest.fixture
def app_env(world, sandbox_server, app_key):
    """The environment of a `fundbot` command run as the App on the world's fund."""
    from sandbox_fixtures import APP_ID

    from bot.demo.world import FUND_REPO

    return {"GITHUB_API_URL": sandbox_server.url, "GITHUB_APP_ID": str(APP_ID), "GITHUB_PRIVATE_KEY": app_key,
            "FUNDBOT_REPO": FUND_REPO}


# pytest-xdist hands tests out in the order they are collected: the longest go first, so that none of
# them starts last and becomes the run's tail (`--durations=30` names them).
LONGEST_FIRST = (
    "tests/test_e2e.py::test_the_same_lifecycle_with_github_misbehaving",
    "tests/test_properties.py::",
    "tests/test_metrics.py::test_two_web_processes_and_a_worker_report_together",
    "tests/test_scale_out.py::",
    "tests/test_sweep.py::test_a_year_of_a_grant",
    "tests/test_funds.py::test_with_redis_the_sweep_queues_one_job_per_fund_for_the_workers",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((n for n, start in enumerate(LONGEST_FIRST) if item.nodeid.startswith(start)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the rest keep their order
