"""An administrator's first hour (issue 25): every mistake a new deployment makes is answered by `fundbot`
in one line that names the setting to check — never a traceback. Each case runs the command as an
administrator would, in its own process where the traceback would show, and reads its stderr."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from deploy_files import PROJECT_ROOT


def fundbot(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """`fundbot ARGS` in a process of its own, with only `env` (and what Python needs) as its environment."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    run = subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         env={**base, "PYTHONPATH": str(PROJECT_ROOT), **env}, timeout=timeout)
    assert "Traceback" not in run.stderr, run.stderr
    return run


def test_serve_names_every_missing_setting_in_one_run():
    run = fundbot("serve", env={"WEB_CONCURRENCY": "2", "FUNDBOT_LOG_LEVEL": "LOUD"})
    assert run.returncode == 2
    lines = run.stderr.splitlines()
    assert lines[0] == "fundbot: 5 settings to fix:"
    assert [line.split()[0] for line in lines[1:]] == ["FUNDBOT_LOG_LEVEL", "GITHUB_WEBHOOK_SECRET", "GITHUB_APP_ID",
                                                        "GITHUB_PRIVATE_KEY", "WEB_CONCURRENCY"]


def test_sweep_without_credentials_names_both_ways_of_giving_the_key():
    run = fundbot("sweep", env={"FUNDBOT_REPO": "fund/applications"})
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "GITHUB_APP_ID" in run.stderr and "GITHUB_PRIVATE_KEY_PATH" in run.stderr


@pytest.fixture
def redis_down():
    """A Redis URL where nothing listens, with a password that must never be printed."""
    from e2e_harness import free_port

    return f"redis://:hunter2@127.0.0.1:{free_port()}/0"


@pytest.mark.parametrize("command", [["worker"], ["sweep"], ["sweep", "--dry-run"], ["clock"]],
                         ids=["worker", "sweep", "sweep-dry-run", "clock"])
def test_redis_unreachable_is_one_line_naming_its_setting(app_key, redis_down, command):
    env = {"GITHUB_APP_ID": "12", "GITHUB_PRIVATE_KEY": app_key, "FUNDBOT_REPO": "fund/applications",
           "FUNDBOT_REDIS_URL": redis_down, "GITHUB_API_URL": "http://127.0.0.1:9"}  # GitHub is never reached
    run = fundbot(*command, env=env)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith("fundbot: Redis cannot be used at redis://127.0.0.1:")
    assert "Connection refused" in run.stderr and "check FUNDBOT_REDIS_URL" in run.stderr
    assert "hunter2" not in run.stderr + run.stdout


def test_redis_lost_after_the_first_ping_is_one_line_too(monkeypatch, capsys):
    import bot.cli as cli
    from redis.exceptions import ConnectionError

    def lost(args, environ):
        raise ConnectionError("Error 104 while reading from r.internal:6379 : (104, 'Connection reset by peer')")

    monkeypatch.setattr(cli, "cmd_verify", lost)
    assert cli.main(["verify"], {"FUNDBOT_REDIS_URL": "rediss://user:hunter2@r.internal:6380/1"}) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fundbot: Redis cannot be used at rediss://r.internal:6380/1 ")
    assert "FUNDBOT_REDIS_URL" in err and "hunter2" not in err


@pytest.fixture
def app_settings(world, sandbox_server, app_key):
    from sandbox_fixtures import APP_ID

    from bot.demo.world import FUND_REPO

    return {"GITHUB_API_URL": sandbox_server.url, "GITHUB_APP_ID": str(APP_ID), "GITHUB_PRIVATE_KEY": app_key,
            "FUNDBOT_REPO": FUND_REPO, "FUNDBOT_MAX_RETRY_WAIT": "1"}


APP_HINT = "check GITHUB_APP_ID (the App ID on the App's settings page) and that GITHUB_PRIVATE_KEY"


@pytest.mark.parametrize("wrong", ["app id", "key"])
@pytest.mark.parametrize("command", [["sweep"], ["labels", "sync"], ["export"]], ids=["sweep", "labels", "export"])
def test_credentials_github_refuses_are_said_with_the_settings_to_check(app_settings, wrong, command):
    from bot.sandbox.keys import throwaway_app_key

    env = {**app_settings, **({"GITHUB_APP_ID": "31337"} if wrong == "app id" else
                              {"GITHUB_PRIVATE_KEY": throwaway_app_key()})}
    run = fundbot(*command, env=env)
    assert run.returncode == 1
    assert "GitHub refused the App's credentials (401 A JSON web token could not be decoded)" in run.stderr
    assert APP_HINT in run.stderr and "GITHUB_PRIVATE_KEY_PATH" in run.stderr
    assert run.stderr.count("\n") == 1


def test_a_wrong_app_id_is_said_when_every_fund_is_listed(app_settings):
    env = {k: v for k, v in app_settings.items() if k != "FUNDBOT_REPO"}
    run = fundbot("sweep", env={**env, "GITHUB_APP_ID": "31337"})
    assert run.returncode == 1 and run.stderr.startswith("fundbot: could not list the App's installations: GitHub "
                                                         "refused the App's credentials") and APP_HINT in run.stderr


@pytest.mark.parametrize("command", [["labels", "sync"], ["sweep"], ["validate", "--repo", "someone/else"]],
                         ids=["labels", "sweep", "validate"])
def test_a_repository_the_app_is_not_installed_on_is_named_with_what_to_do(app_settings, sandbox, command):
    sandbox.add_repo("someone/else")
    run = fundbot(*command, env={**app_settings, "FUNDBOT_REPO": "someone/else"})
    assert run.returncode in (1, 2)
    assert "the App is not installed on someone/else (GitHub answered 404 Not Found): install it there" in run.stderr
    # One line says it; `labels sync` also logs the installed repositories FUNDBOT_REPO leaves out (WARNING).
    said = [line for line in run.stderr.splitlines() if " WARNING fundbot.funds an installed repository is ignored "
            not in line]
    assert len(said) == 1 and "FUNDBOT_REPO" in said[0]


@pytest.mark.parametrize("message", [
    "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion "
    "expires", "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"],
    ids=["exp", "iat"])
def test_a_clock_github_does_not_believe_is_named_as_the_clock(message):
    from bot.github.app import AppRefused
    from bot.github.transport import GitHubError

    said = str(AppRefused(GitHubError(401, message)))
    assert "this machine's clock is off" in said and "GITHUB_APP_ID" not in said
