"""Intake end to end: an application filed on the sandbox GitHub, delivered to the real service
through the Flask test client, answered with one status comment and labels, in few requests."""
from factories import application_body
from pipeline_world import filed, number_of

from bot.demo.world import FUND_REPO


def file_application(world, body=None, user="applicant"):
    world.add_applicant_repo("tiny-org/tiny-inference")
    world.sandbox.clear_log()
    delivery = filed(world.sandbox, user, "Tiny Inference", body=body)
    answer = world.deliver(delivery)
    return number_of(delivery), answer


def test_a_filed_application_gets_one_status_comment_and_labels(world):
    number, answer = file_application(world)
    assert answer.status == 202 and answer.json["status"] == "queued"
    record = world.record(number)
    assert record.eligible and record.stage == "technical"
    assert world.labels(number) == {"fund: application", "stage: technical", "eligibility: passed"}
    assert len(world.bot_comments(number)) == 1
    status = world.status_comment(number)
    assert "| OSI-approved licence | ✅ | MIT |" in status
    assert "5 contributors (1 bot not counted)" in status


def test_intake_makes_exactly_these_requests(world):
    file_application(world)
    requests = [(r.method, r.path, dict(r.query)) for r in world.sandbox.requests() if r.actor != "app"]
    tokens = [r for r in world.sandbox.requests() if r.path.endswith("/access_tokens")]
    assert len(tokens) <= 1  # the installation token is cached across deliveries
    # Once per process (and then at most once a minute, as 304s): the App's own JWT calls (its login
    # from GET /app, the token) and the fund's configuration (its file and its two issue forms).
    config = [p for _, p, _ in requests if "/contents/" in p]
    assert config == [f"/repos/{FUND_REPO}/contents/{path}" for path in (
        ".github/fund-bot.yml", ".github/ISSUE_TEMPLATE/application.yml", ".github/ISSUE_TEMPLATE/progress-report.yml")]
    without_token = [r for r in requests if not r[1].startswith("/app") and "/contents/" not in r[1]]
    paths = [(m, p) for m, p, _ in without_token]
    # After the answer, the evidence pack (issue 21): a follow-up job reads it and takes it in under the
    # application's lock — its own requests, never before the status comment (tests/test_evidence_e2e.py).
    paths, later = paths[:7], paths[7:]
    assert later[:2] == [("GET", f"/repos/{FUND_REPO}/issues/1"), ("GET", f"/repos/{FUND_REPO}/issues/1/comments")]
    assert later[-1][0] == "PATCH" and "/issues/comments/" in later[-1][1]
    assert paths == [
        # Under the application's lock, the issue and its comments are read again: the payload's
        # labels, body and comment count may be stale by now (SPEC §11).
        ("GET", f"/repos/{FUND_REPO}/issues/1"),
        ("GET", f"/repos/{FUND_REPO}/issues/1/comments"),
        ("GET", "/repos/tiny-org/tiny-inference"),
        ("GET", "/repos/tiny-org/tiny-inference/commits"),
        ("GET", "/repos/tiny-org/tiny-inference/contributors"),
        ("POST", f"/repos/{FUND_REPO}/issues/1/labels"),
        ("POST", f"/repos/{FUND_REPO}/issues/1/comments"),  # the record is written last
    ]
    assert without_token[3][2]["per_page"] == "1" and "since" in without_token[3][2]
    assert without_token[4][2] == {"anon": "true", "per_page": "100"}


def test_an_edit_rechecks_and_edits_the_same_comment(world):
    world.add_applicant_repo("tiny-org/other-project", license_spdx=None)
    number, _ = file_application(world, application_body(repository="https://github.com/tiny-org/other-project"))
    assert world.labels(number) >= {"stage: screening", "eligibility: failed"}
    assert "Add a LICENSE file" in world.status_comment(number)
    comment_id = world.sandbox.comments(FUND_REPO, number)[0]["id"]

    world.deliver(world.sandbox.edit_issue(FUND_REPO, number, "applicant", body=application_body()))
    assert world.labels(number) == {"fund: application", "stage: technical", "eligibility: passed"}
    comments = world.sandbox.comments(FUND_REPO, number)
    assert len(comments) == 1 and comments[0]["id"] == comment_id  # edited in place, never a second one


def test_a_repeated_delivery_is_processed_once(world):
    world.add_applicant_repo("tiny-org/tiny-inference")
    delivery = filed(world.sandbox)
    first = world.post(delivery)
    world.sandbox.clear_log()
    second = world.post(delivery)  # GitHub's "Redeliver" keeps the X-GitHub-Delivery id
    assert (first.status, second.status) == (202, 202) and second.json["status"] == "duplicate"
    assert world.sandbox.requests() == []
    assert len(world.bot_comments(1)) == 1


def test_a_repository_that_does_not_exist_is_a_finding(world):
    number, _ = file_application(world, application_body(repository="https://github.com/nobody/nothing"))
    status = world.status_comment(number)
    assert "nobody/nothing not found" in status and "misspelt, deleted or private" in status
    assert world.labels(number) >= {"stage: screening", "eligibility: failed"}


def test_an_issue_that_is_not_an_application_is_ignored(world):
    world.sandbox.clear_log()
    delivery = world.sandbox.open_issue(FUND_REPO, "someone", "Typo in README", "The link is broken.")
    answer = world.deliver(delivery)
    assert answer.status == 202
    assert [r for r in world.sandbox.requests() if r.method != "GET" or "access_tokens" in r.path] == []
    assert world.sandbox.comments(FUND_REPO, delivery.payload["issue"]["number"]) == []
