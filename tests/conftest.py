"""Shared pytest fixtures: the app, its test client, and the one sandbox GitHub."""
from sandbox_fixtures import *  # noqa: F401,F403  (sandbox, sandbox_server fixtures)
from redis_fixtures import *  # noqa: F401,F403  (redis_server, redis_url: Debian's redis-server)

import pytest

from bot.config.rules import load_rules
from bot.config.settings import DEFAULT_RULES_DIR, DEFAULT_TEMPLATES_DIR
from bot.policy.rules import Rules


@pytest.fixture(scope="session")
def rules() -> Rules:
    """The shipped rules: tests and documentation rely on their defaults (SPEC)."""
    return load_rules(DEFAULT_RULES_DIR, DEFAULT_TEMPLATES_DIR)


@pytest.fixture
def world(sandbox, sandbox_server, app_key):
    """The fund's repository on the sandbox GitHub, with the real service wired to it."""
    from sandbox_fixtures import APP_ID

    from bot.demo.world import World

    w = World(sandbox, sandbox_server.url, APP_ID, app_key)
    sandbox.clear_log()
    yield w
    w.close()


@pytest.fixture
def app_env(world, sandbox_server, app_key):
    """The environment of a `fundbot` command run as the App on the world's fund."""
    from sandbox_fixtures import APP_ID

    from bot.demo.world import FUND_REPO

    return {"GITHUB_API_URL": sandbox_server.url, "GITHUB_APP_ID": str(APP_ID), "GITHUB_PRIVATE_KEY": app_key,
            "FUNDBOT_REPO": FUND_REPO}
