"""The `fundbot` command line: check (exit 0/1/2), validate, labels sync, sweep --dry-run."""
import json
import shutil

import pytest
from factories import application_body

from bot.cli import main
from bot.sandbox import Faults
from bot.demo.world import FUND_REPO
from bot.settings import DEFAULT_RULES_DIR


@pytest.fixture
def token_env(sandbox, sandbox_server):
    sandbox.add_token("ghp_cli_token", "applicant")
    now = sandbox.now()
    import datetime as dt

    sandbox.add_repo("tiny-org/good", commits=[now - dt.timedelta(days=d) for d in range(1, 6)],
                     contributors=[(f"p{i}", "User", 9) for i in range(4)])
    sandbox.add_repo("tiny-org/unlicensed", license_spdx=None, commits=[now - dt.timedelta(days=200)],
                     contributors=[("solo", "User", 3), ("renovate[bot]", "Bot", 40)])
    return {"GITHUB_API_URL": sandbox_server.url, "GITHUB_TOKEN": "ghp_cli_token"}


def test_check_an_eligible_repository(token_env, capsys):
    assert main(["check", "tiny-org/good"], token_env) == 0
    out = capsys.readouterr().out
    assert "tiny-org/good: eligible" in out and "✅ OSI-approved licence: MIT" in out


def test_check_an_ineligible_repository_as_json(token_env, capsys):
    assert main(["check", "https://github.com/tiny-org/unlicensed", "--json"], token_env) == 1
    report = json.loads(capsys.readouterr().out)
    failed = {c["check"]: c for c in report["checks"] if not c["ok"]}
    assert set(failed) == {"licence", "activity", "community"}
    assert "LICENSE" in failed["licence"]["detail"] and "1 contributor (1 bot not counted)" == failed["community"]["figure"]
    assert report["requests"]["reads"] == 3  # SPEC §3: at most three requests per repository


def _closed_port() -> int:
    from e2e_harness import free_port

    return free_port()  # nothing listens there


@pytest.mark.parametrize("trouble, says", [
    ("refused token", "GitHub refused the credentials of the token (GITHUB_TOKEN) (401 Bad credentials)"),
    ("missing permission", "GitHub refused for lack of permission (403 Resource not accessible by integration)"),
    ("github down", "GitHub is down: it answered 502"),
    ("no connection", "GitHub is unreachable: no answer from http://127.0.0.1:"),
], ids=["refused token", "missing permission", "github down", "no connection"])
def test_check_says_which_trouble_github_gave_and_exits_2(token_env, sandbox, capsys, trouble, says):
    env = {**token_env, "FUNDBOT_MAX_RETRY_WAIT": "1"}
    if trouble == "refused token":
        env["GITHUB_TOKEN"] = "ghp_revoked"
    elif trouble == "missing permission":
        sandbox.refuse("GET", "/repos/tiny-org/good", 403, "Resource not accessible by integration")
    elif trouble == "github down":
        sandbox.faults = Faults(error_rate=1.0)
    else:
        env["GITHUB_API_URL"] = f"http://127.0.0.1:{_closed_port()}"
    assert main(["check", "tiny-org/good"], env) == 2  # never "not eligible" (1): nothing was judged
    captured = capsys.readouterr()
    assert captured.out == "" and says in captured.err and "ghp_" not in captured.err


@pytest.mark.parametrize("typed", ["not a repository", "tiny-org/good/tree/main", "https://gitlab.com/a/b",
                                   "a" * 100_000, "x/\x1b[31mred"], ids=["words", "deeper", "other host", "100 KB",
                                                                         "escape codes"])
def test_check_refuses_a_malformed_repository_as_typed(token_env, sandbox, capsys, typed):
    sandbox.clear_log()
    assert main(["check", typed], token_env) == 2
    err = capsys.readouterr().err
    assert err.startswith("fundbot: not a repository: ") and "github.com/" + typed not in err
    if len(typed) < 200:
        assert repr(typed) in err  # exactly what was typed, quoted
    else:
        assert len(err) < 400 and "100,000 characters" in err
    assert "\x1b" not in err and sandbox.requests() == []


def test_validate_accepts_the_shipped_rules_and_lists_every_problem(tmp_path, capsys):
    assert main(["validate"], {}) == 0
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    (rules / "reports.yml").write_text("cadence_days: 0\nreminder_lead_days: 14\noverdue_grace_days: 7\nsurprise: 1\n")
    assert main(["validate", "--rules", str(rules)], {}) == 1
    out = capsys.readouterr().out
    assert "cadence_days: 0 is less than the minimum of 1" in out and "'surprise' was unexpected" in out


def test_labels_sync_reports_what_it_changed(world, app_env, capsys):
    assert main(["labels", "sync"], app_env) == 0
    assert "0 labels changed" in capsys.readouterr().out  # World synced them already: idempotent
    gateway = world.github.for_repository(FUND_REPO)
    gateway.update_label(FUND_REPO, "needs: info", "Needs Info", "ffffff", "renamed by hand")
    assert main(["labels", "sync", "--dry-run"], app_env) == 0
    assert "would create 'needs: info'" in capsys.readouterr().out
    assert main(["labels", "sync"], app_env) == 0
    assert "1 label changed" in capsys.readouterr().out
    assert "needs: info" in {label["name"] for label in world.sandbox.labels(FUND_REPO)}


def test_sweep_dry_run_writes_nothing(world, app_env, capsys):
    world.add_applicant_repo("tiny-org/tiny-inference")
    # An application whose delivery was lost: no status comment yet.
    world.deliver(world.sandbox.open_issue(FUND_REPO, "applicant", "[Application]: Tiny", application_body(),
                                           labels=["fund: application"]), lose=True)
    world.sandbox.clear_log()
    assert main(["sweep", "--dry-run"], app_env) == 0
    out = capsys.readouterr().out
    assert "would: #1: update the status comment" in out and "dry run, nothing written" in out
    assert world.sandbox.request_counts().writes == 0
    assert main(["sweep"], app_env) == 0
    assert world.record(1).stage == "technical"


def test_a_sweep_in_the_future_previews_unless_told_to_write(world, app_env, capsys):
    # Time travel posts reminders and overdue notices not due yet, mentioning real people: a preview.
    world.add_applicant_repo("tiny-org/tiny-inference")
    world.deliver(world.sandbox.open_issue(FUND_REPO, "applicant", "[Application]: Tiny", application_body(),
                                           labels=["fund: application"]), lose=True)
    world.sandbox.clear_log()
    future = "2100-01-01"
    assert main(["sweep", "--now", future], app_env) == 2
    err = capsys.readouterr().err
    assert "later than the real time" in err and "--dry-run" in err and "--write-in-the-future" in err
    assert world.sandbox.requests() == []  # refused before anything is read, nothing written
    assert main(["sweep", "--now", future, "--dry-run"], app_env) == 0
    assert "would: #1: update the status comment" in capsys.readouterr().out
    assert world.sandbox.request_counts().writes == 0
    assert main(["sweep", "--now", future, "--write-in-the-future"], app_env) == 0
    assert "did: #1: update the status comment" in capsys.readouterr().out
    assert world.sandbox.request_counts().writes > 0
    assert main(["sweep", "--now", "2020-01-01"], app_env) == 0  # the past needs no flag


def test_sweep_needs_its_settings(capsys):
    assert main(["sweep"], {"GITHUB_TOKEN": "x"}) == 2
    assert "FUNDBOT_REPO is missing" in capsys.readouterr().err
    assert main(["sweep", "--now", "yesterday"], {"GITHUB_TOKEN": "x", "FUNDBOT_REPO": "a/b"}) == 2


def test_a_scheduled_sweep_keeps_its_etags_between_runs(world, app_env, tmp_path, capsys):
    world.add_applicant_repo("tiny-org/tiny-inference")
    world.deliver(world.sandbox.open_issue(FUND_REPO, "applicant", "[Application]: Tiny", application_body(),
                                           labels=["fund: application"]))
    env = {**app_env, "FUNDBOT_CACHE_FILE": str(tmp_path / "etags.json")}
    assert main(["sweep"], env) == 0  # first run: fills the cache file, and starts the sweep log
    assert main(["sweep"], env) == 0  # reads the log it started (a quiet run on the same day: no write)
    world.sandbox.clear_log()
    assert main(["sweep"], env) == 0  # a new process, as the daily workflow starts one
    reads = [r for r in world.sandbox.requests(method="GET") if "/installation" not in r.path
             and not r.path.startswith("/app")]  # the App's own JWT calls: its installation and login
    # This fund runs by the server's rules: its configuration files are absent (404s carry no ETag).
    missing = [r for r in reads if "/contents/.github/" in r.path]
    assert len(missing) == 3 and all(r.status == 404 for r in missing)
    assert all(r.not_modified for r in reads if r not in missing)
