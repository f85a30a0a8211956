"""The `fundbot` command line: check (exit 0/1/2), validate, labels sync, sweep --dry-run."""
import json
import shutil

import pytest
from factories import application_body
from pipeline_world import filed

from bot.cli import main
from bot.config.settings import DEFAULT_RULES_DIR
from bot.demo.world import FUND_REPO
from bot.sandbox import Faults


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
    world.deliver(filed(world.sandbox), lose=True)
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
    world.deliver(filed(world.sandbox), lose=True)
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
    world.deliver(filed(world.sandbox))
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


def _rules_with(tmp_path, name, *replacements):
    rules = tmp_path / name
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    text = (rules / "stages.yml").read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    (rules / "stages.yml").write_text(text)
    return rules


def _stage_labels(world, number):
    return sorted(label for label in world.labels(number) if label.startswith("stage: "))


def test_labels_sync_renames_a_renamed_label_in_place_twice_and_deletes_nothing(world, app_env, tmp_path, capsys):
    from bot.config.rules import load_rules
    from bot.config.settings import DEFAULT_TEMPLATES_DIR

    world.add_applicant_repo("tiny-org/tiny-inference")
    world.deliver(filed(world.sandbox))
    assert _stage_labels(world, 1) == ["stage: technical"]
    count = len(world.sandbox.labels(FUND_REPO))
    renamed = _rules_with(tmp_path, "renamed", ("name: \"stage: technical\"", "name: \"stage: tech review\""))
    env = {**app_env, "FUNDBOT_RULES": str(renamed)}
    world.sandbox.clear_log()
    assert main(["labels", "sync", "--dry-run"], env) == 0
    assert "would rename 'stage: technical' to 'stage: tech review' (kept on every issue)" in capsys.readouterr().out
    assert world.sandbox.request_counts().writes == 0
    assert main(["labels", "sync"], env) == 0
    assert _stage_labels(world, 1) == ["stage: tech review"]  # GitHub kept it on the issue, under its new name
    again = _rules_with(tmp_path, "again", ("name: \"stage: technical\"", "name: \"stage: deep review\""))
    assert main(["labels", "sync"], {**app_env, "FUNDBOT_RULES": str(again)}) == 0
    assert "rename 'stage: tech review' to 'stage: deep review'" in capsys.readouterr().out
    assert _stage_labels(world, 1) == ["stage: deep review"] and len(world.sandbox.labels(FUND_REPO)) == count
    # The application goes on under the new rules with one stage label.
    world.use_rules(load_rules(again, DEFAULT_TEMPLATES_DIR))
    world.sweep()
    assert _stage_labels(world, 1) == ["stage: deep review"]
    assert main(["labels", "sync"], {**app_env, "FUNDBOT_RULES": str(again)}) == 0
    assert "0 labels changed" in capsys.readouterr().out  # idempotent


def test_labels_sync_leaves_alone_what_it_cannot_rename_or_no_longer_needs(world, app_env, tmp_path, capsys):
    world.github.for_repository(FUND_REPO).create_label(FUND_REPO, "stage: tech review", "ffffff", "made by a person")
    renamed = _rules_with(tmp_path, "renamed", ("name: \"stage: technical\"", "name: \"stage: tech review\""))
    assert main(["labels", "sync"], {**app_env, "FUNDBOT_RULES": str(renamed)}) == 1
    out = capsys.readouterr().out
    assert "cannot rename 'stage: technical' to 'stage: tech review': a label of that name exists" in out
    names = {label["name"]: label for label in world.sandbox.labels(FUND_REPO)}
    assert names["stage: tech review"]["description"] == "made by a person"  # a person's label, untouched
    # A stage renamed (its name, not its label's) is another stage: the old label is reported, not deleted.
    other = _rules_with(tmp_path, "other", ("- name: funding\n", "- name: money\n"), ("next: [funding]", "next: [money]"),
                        ("next: [funding, technical]", "next: [money, technical]"),
                        ('name: "stage: funding"', 'name: "stage: money"'))
    before = len(world.sandbox.labels(FUND_REPO))
    main(["labels", "sync"], {**app_env, "FUNDBOT_RULES": str(other)})
    out = capsys.readouterr().out
    assert "left alone 'stage: funding' (stage:funding)" in out
    assert "stage: funding" in {label["name"] for label in world.sandbox.labels(FUND_REPO)}
    assert len(world.sandbox.labels(FUND_REPO)) >= before


def test_recheck_previews_then_judges_again_only_open_applications_in_screening(world, app_env, tmp_path, capsys):
    # Two contributors: not enough under the shipped rules (3), enough once the rules say 2.
    world.add_applicant_repo("tiny-org/small", people=2)
    world.add_applicant_repo("tiny-org/tiny-inference")
    small = application_body(repository="https://github.com/tiny-org/small")
    for author, body in (("ann", small), ("bob", application_body()), ("cid", small)):
        world.deliver(filed(world.sandbox, author, "P", body=body))
    world.deliver(world.sandbox.close_issue(FUND_REPO, 3, "cid"))  # closed while in screening
    assert [world.record(n).stage for n in (1, 2, 3)] == ["screening", "technical", "screening"]
    checked = {n: world.record(n).checked_at for n in (1, 2, 3)}
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    text = (rules / "eligibility.yml").read_text()
    (rules / "eligibility.yml").write_text(text.replace("min_contributors: 3", "min_contributors: 2"))
    env = {**app_env, "FUNDBOT_RULES": str(rules)}
    world.sandbox.clear_log()
    assert main(["recheck"], env) == 0  # a preview unless --apply
    out = capsys.readouterr().out
    assert "would run again on 1 application(s) in screening (#1)" in out and "would: #1:" in out
    assert world.sandbox.request_counts().writes == 0
    assert main(["recheck", "--apply"], env) == 0
    assert "run again on 1 application(s) in screening (#1)" in capsys.readouterr().out
    assert world.record(1).eligible and world.record(1).stage == "technical"  # passed: moved on by itself
    assert world.record(2).checked_at == checked[2] and world.record(3).checked_at == checked[3]
    assert main(["recheck", "--apply"], env) == 0  # nothing left in screening
    assert "on 0 application(s) in screening (none)" in capsys.readouterr().out


@pytest.mark.parametrize("language", ["en", "zh"])
def test_check_tells_a_command_line_user_what_to_do_not_to_edit_an_issue(token_env, sandbox, capsys, tmp_path, language):
    # The findings are the status comment's; on the command line there is no issue to edit yet.
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    (rules / "fund.yml").write_text(f"language: {language}\n")
    env = {**token_env, "FUNDBOT_RULES": str(rules)}
    sandbox.rename_repo("tiny-org/good", "tiny-org/better")
    assert main(["check", "tiny-org/nowhere"], env) == 1
    missing = capsys.readouterr().out
    assert main(["check", "tiny-org/good"], env) == 0
    moved = capsys.readouterr().out
    assert main(["check", "tiny-org/nowhere", "--json"], env) == 1
    as_json = capsys.readouterr().out
    if language == "en":
        assert "check the OWNER/REPO you gave" in missing and "Give the new one when you apply" in moved
        assert "check the OWNER/REPO you gave" in as_json
    for said in (missing, moved, as_json):
        assert "editing the issue" not in said and "Repository field" not in said
        assert "编辑 issue" not in said and "修改代码仓库一栏" not in said
