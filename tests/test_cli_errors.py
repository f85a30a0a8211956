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
