"""An administrator's first hour (issue 25): every mistake a new deployment makes is answered by `fundbot`
in one line that names the setting to check — never a traceback. Each case runs the command as an
administrator would, in its own process where the traceback would show, and reads its stderr."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from e2e_harness import PROJECT_ROOT


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
