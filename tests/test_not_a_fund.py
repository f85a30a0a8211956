"""No silent "not a fund" (issue 25): an application filed where Fund Bot is installed but no fund is served
gets one short answer saying how to make the repository a fund — once, however often the issue is edited,
delivered again or labelled at the same moment; never for an issue without the application label; never
to a bot; at a cost of a request or two — and `serve` and `labels sync` log which installed repositories
are ignored, and why."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pytest
from factories import application_body
from sandbox_fixtures import APP_ID, OPENAPI_SUBSET
from pipeline_world import filed

from bot.demo.world import FUND_OWNER, FUND_REPO, INSTALLATION_ID, World, running_world
from bot.policy.markers import STATUS_MARKER, notice
from bot.policy.rules import FUND_FILE

NOT_A_FUND = notice("not-a-fund")
OTHER_REPO = f"{FUND_OWNER}/website"


@contextlib.contextmanager
def every_fund(app_key: str) -> Iterator[World]:
    """A service serving every fund of the App (no FUNDBOT_REPO): its repository has no fund file yet."""
    with running_world(openapi=OPENAPI_SUBSET, app_id=APP_ID, app_key=app_key, settings={"repo": None}) as world:
        world.add_applicant_repo("tiny-org/tiny-inference")
        yield world
    assert not world.sandbox.violations, world.sandbox.violations


def answers(world: World, repo: str, number: int) -> list[dict]:
    return [c for c in world.sandbox.comments(repo, number) if NOT_A_FUND in c["body"]]


def file_application(world: World, user: str = "applicant", repo: str = FUND_REPO, *, title: str = "[Application]: Tiny",
                     labels=("fund: application",), deliver: bool = True) -> int:
    delivery = world.sandbox.open_issue(repo, user, title, application_body(), labels=list(labels))
    if deliver:
        world.deliver(delivery)
    return int(delivery.payload["issue"]["number"])


def test_an_application_where_no_fund_is_served_gets_one_answer_saying_how_to_make_one(app_key):
    with every_fund(app_key) as world:
        number = file_application(world)
        [answer] = answers(world, FUND_REPO, number)
        assert answer["user"]["login"] == world.app_login
        assert f"`{FUND_FILE}`" in answer["body"] and "an empty file will do" in answer["body"]
        assert not any(c["body"].startswith(STATUS_MARKER) for c in world.sandbox.comments(FUND_REPO, number))
        assert world.sandbox.issue_labels(FUND_REPO, number) == ["fund: application"]  # nothing else touched


def test_edited_ten_times_it_is_still_one_answer_and_the_edits_cost_nothing(app_key):
    with every_fund(app_key) as world:
        number = file_application(world)
        world.sandbox.clear_log()
        for i in range(10):
            world.deliver(world.sandbox.edit_issue(FUND_REPO, number, "applicant", body=application_body() + f"\n{i}"))
        assert len(answers(world, FUND_REPO, number)) == 1
        # "Not a fund" is known for FUNDBOT_CONFIG_TTL seconds: an edit costs no request at all.
        assert world.sandbox.requests() == []


def test_filed_and_labelled_at_once_or_delivered_again_it_is_one_answer(app_key):
    with every_fund(app_key) as world:
        opened = filed(world.sandbox)
        labelled = world.sandbox.pending_deliveries()  # the form's label: `issues.labeled`, sent with it
        assert [d.event for d in labelled] == ["issues"]
        for delivery in [opened, *labelled]:  # both at once, on two queue workers
            assert world.post(delivery, wait=False).status == 202
        assert world.runtime.queue.join(30)
        world.flush()
        number = int(opened.payload["issue"]["number"])
        world.deliver(world.sandbox.close_issue(FUND_REPO, number, "applicant"))  # closed, and reopened later
        world.deliver(world.sandbox.reopen_issue(FUND_REPO, number, "applicant"))
        assert len(answers(world, FUND_REPO, number)) == 1


def test_a_strangers_application_is_answered_without_repeating_or_mentioning_anyone(app_key):
    with every_fund(app_key) as world:
        number = file_application(world, "stranger-99", title="[Application]: @everyone <script>x</script>")
        [answer] = answers(world, FUND_REPO, number)
        assert "@" not in answer["body"] and "script" not in answer["body"]


def test_no_answer_for_an_issue_without_the_label_or_a_bots_issue(app_key):
    with every_fund(app_key) as world:
        plain = file_application(world, labels=())  # the form without its label: not "application-labelled"
        world.sandbox.clear_log()
        bots = file_application(world, "renovate[bot]", labels=(), deliver=False)
        world.sandbox.pending_deliveries()  # a bot's own deliveries are dropped by the web tier anyway
        # A person puts the label on the bot's issue: still no answer to a bot.
        world.deliver(world.sandbox.label_issue(FUND_REPO, bots, "rita", "fund: application"))
        assert answers(world, FUND_REPO, plain) == [] and answers(world, FUND_REPO, bots) == []
        assert world.sandbox.requests("POST") == []


def test_once_the_file_is_there_the_application_is_checked(app_key):
    with every_fund(app_key) as world:
        number = file_application(world)
        world.deliver(world.sandbox.commit_file(FUND_REPO, FUND_FILE, "", FUND_OWNER))  # an empty file will do
        world.deliver(world.sandbox.edit_issue(FUND_REPO, number, "applicant", body=application_body() + "\n"))
        assert world.record(number) is not None and len(answers(world, FUND_REPO, number)) == 1


def test_a_repository_outside_fundbot_repo_is_answered_with_that_setting(world, sandbox):
    # The service serves FUNDBOT_REPO alone; the App is installed on another repository of the owner too.
    sandbox.add_repo(OTHER_REPO)
    sandbox.add_label(OTHER_REPO, "fund: application")  # the shipped form, copied there, applies it
    sandbox.add_installation(INSTALLATION_ID, FUND_OWNER, [FUND_REPO, OTHER_REPO])
    world.add_applicant_repo("tiny-org/tiny-inference")
    number = file_application(world, repo=OTHER_REPO)
    [answer] = answers(world, OTHER_REPO, number)
    assert "`FUNDBOT_REPO`" in answer["body"] and FUND_REPO not in answer["body"]  # the other repository unnamed


# --- which installed repositories are ignored, logged at WARNING ----------------------------------------


def test_serve_logs_which_installed_repositories_are_ignored_and_why(world, sandbox, sandbox_server, app_key, caplog):
    from bot.config.startup import log_ignored

    sandbox.add_repo(OTHER_REPO)
    sandbox.add_installation(INSTALLATION_ID, FUND_OWNER, [FUND_REPO, OTHER_REPO])
    env = {"GITHUB_API_URL": sandbox_server.url, "GITHUB_APP_ID": str(APP_ID), "GITHUB_PRIVATE_KEY": app_key,
           "GITHUB_WEBHOOK_SECRET": "s"}
    with caplog.at_level(logging.WARNING, logger="fundbot"):
        log_ignored({**env, "FUNDBOT_REPO": FUND_REPO})
        narrowed = [(r.repo, r.reason) for r in caplog.records if r.levelno == logging.WARNING]
        caplog.clear()
        log_ignored(env)  # every fund: neither repository has the file
        every = sorted((r.repo, r.reason) for r in caplog.records if r.levelno == logging.WARNING)
    assert narrowed == [(OTHER_REPO, f"FUNDBOT_REPO names {FUND_REPO}: this deployment serves that repository only")]
    assert every == [(FUND_REPO, f"no {FUND_FILE}: add one (an empty file will do) to make it a fund"),
                     (OTHER_REPO, f"no {FUND_FILE}: add one (an empty file will do) to make it a fund")]


def test_serve_says_when_fundbot_repo_is_not_installed_and_goes_on_when_github_fails(world, sandbox_server, app_key,
                                                                                 caplog):
    from bot.config.startup import log_ignored

    env = {"GITHUB_API_URL": sandbox_server.url, "GITHUB_APP_ID": str(APP_ID), "GITHUB_PRIVATE_KEY": app_key}
    with caplog.at_level(logging.WARNING, logger="fundbot"):
        log_ignored({**env, "FUNDBOT_REPO": "someone/elsewhere"})
        log_ignored({**env, "GITHUB_APP_ID": "31337"})  # GitHub refuses: said, and the service starts anyway
    said = [r.getMessage() + " " + str(getattr(r, "reason", "")) for r in caplog.records]
    assert any("FUNDBOT_REPO names someone/elsewhere, where the App is not installed" in line for line in said)
    assert any("could not list the repositories the App is installed on" in line and "GITHUB_APP_ID" in line
               for line in said)


def test_serve_examines_a_bounded_number_of_repositories(world, sandbox, sandbox_server, app_key, caplog, monkeypatch):
    import bot.config.startup as startup

    monkeypatch.setattr(startup, "SURVEY_LIMIT", 1)
    sandbox.add_repo(OTHER_REPO)
    sandbox.add_installation(INSTALLATION_ID, FUND_OWNER, [FUND_REPO, OTHER_REPO])
    env = {"GITHUB_API_URL": sandbox_server.url, "GITHUB_APP_ID": str(APP_ID), "GITHUB_PRIVATE_KEY": app_key}
    sandbox.clear_log()
    with caplog.at_level(logging.WARNING, logger="fundbot"):
        startup.log_ignored(env)
    assert [r.getMessage() for r in caplog.records] == ["an installed repository is ignored",
                                                         "more installed repositories were not examined"]
    assert len(sandbox.requests("GET", "*/contents/*")) == 1  # one repository examined, one request


@pytest.mark.parametrize("narrowed", [True, False], ids=["FUNDBOT_REPO", "every-fund"])
def test_labels_sync_logs_the_ignored_repositories(world, sandbox, sandbox_server, app_key, capsys, caplog, narrowed):
    from bot.cli import main

    sandbox.add_repo(OTHER_REPO)
    sandbox.add_installation(INSTALLATION_ID, FUND_OWNER, [FUND_REPO, OTHER_REPO])
    sandbox.add_file(FUND_REPO, FUND_FILE, "")
    env = {"GITHUB_API_URL": sandbox_server.url, "GITHUB_APP_ID": str(APP_ID), "GITHUB_PRIVATE_KEY": app_key,
           **({"FUNDBOT_REPO": FUND_REPO} if narrowed else {})}
    with caplog.at_level(logging.WARNING, logger="fundbot"):
        assert main(["labels", "sync"], env) == 0
    assert f"{FUND_REPO}: 0 labels changed" in capsys.readouterr().out
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.repo == OTHER_REPO
    assert warning.reason.startswith(f"FUNDBOT_REPO names {FUND_REPO}" if narrowed else f"no {FUND_FILE}")
