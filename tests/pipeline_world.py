"""A fund with a dozen applications in every stage, built the way people build it: applicants
file forms, reviewers comment commands, the community reacts, time passes and the sweep runs.

Shared by the dashboard, export and browser tests. `seed_pipeline` returns the issue numbers by
role, so tests never guess which number an application got.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from factories import REVIEW_STEPS, application_body
from sandbox_fixtures import APP_ID, OPENAPI_SUBSET

from bot.demo.samples import application_template
from bot.demo.world import FUND_REPO, World, running_world
from bot.sandbox import Delivery, Sandbox
from bot.policy.markers import STATUS_MARKER

ACTIVE_REPO, LATER_REPO = "tiny-org/tiny-inference", "tiny-org/later-project"
START = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.timezone.utc)
HOSTILE_NAME = '<script>alert("x")</script> & <b>Co</b>'


@dataclass(frozen=True)
class Seeded:
    numbers: dict[str, int]  # role -> issue number
    filed: dt.datetime  # when the first applications were filed
    now: dt.datetime  # the sandbox's time after seeding

    def __getitem__(self, role: str) -> int:
        return self.numbers[role]


def filed(sandbox: Sandbox, user: str = "applicant", project: str = "Tiny", *, fund: str = FUND_REPO,
          body: str | None = None, **answers: object) -> Delivery:
    """`user` files the application form titled `project` in `fund` (with the labels the form applies):
    GitHub's `opened` delivery, not yet delivered. The body is the sample's, with `answers` changed
    (`repository=...`, `project_name=...`), or `body` whole."""
    if body is None:
        body = application_body(**answers)
    return sandbox.open_issue(fund, user, f"[Application]: {project}", body, labels=list(application_template().labels))


def number_of(delivery: Delivery) -> int:
    return int(delivery.payload["issue"]["number"])


def open_application(world: World, user: str, project: str, *, repo: str = LATER_REPO, fund: str = FUND_REPO,
                     **answers: object) -> int:
    """`user` files an application for `repo` in the fund's repository, and the service takes it."""
    answers.setdefault("repository", f"https://github.com/{repo}")
    delivery = filed(world.sandbox, user, project, fund=fund, project_name=project, **answers)
    world.deliver(delivery)
    return number_of(delivery)


def say(world: World, number: int, user: str, text: str) -> int:
    """`user` comments `text` on issue `number` of the fund, and the service takes it; the comment's id."""
    delivery = world.sandbox.comment(FUND_REPO, number, user, text)
    world.deliver(delivery)
    return int(delivery.payload["comment"]["id"])


def bot_replies(world: World, number: int) -> list[str]:
    """What the App said on issue `number`, its status comment left out."""
    return [body for body in world.bot_comments(number) if not body.startswith(STATUS_MARKER)]


def advance_to(world: World, number: int, stage: str) -> None:
    """The reviewers take application `number` from `technical` to `stage` (`REVIEW_STEPS`)."""
    for step, comments in REVIEW_STEPS.items():
        for user, text in comments:
            say(world, number, user, text)
        if step == stage:
            return


def seed_pipeline(world: World) -> Seeded:
    """Twelve applications: two in screening, three in technical (one stalled), one each in
    community, funding and decision, two funded (one with an overdue report), one declined and
    one withdrawn. The sweep has run."""
    sb = world.sandbox
    world.add_applicant_repo(ACTIVE_REPO)
    filed = sb.now()
    n: dict[str, int] = {}
    n["funded_overdue"] = open_application(world, "ada", "Overdue Engine", repo=ACTIVE_REPO)
    n["stalled"] = open_application(world, "bo", "Slow Review", repo=ACTIVE_REPO)
    say(world, n["stalled"], "rita", "/assign @ravi")
    n["declined"] = open_application(world, "cy", "Declined Thing", repo=ACTIVE_REPO)
    sb.travel(dt.timedelta(days=10))
    advance_to(world, n["funded_overdue"], "decision")
    say(world, n["funded_overdue"], "rita", "/approve 20000")
    sb.travel(dt.timedelta(days=20))
    say(world, n["declined"], "rita", "/decline Out of the fund's scope this round.")
    # 110 days after filing: the first report of the grant decided on day 10 was due on day 100,
    # and the 7 days' grace have run out.
    sb.travel(dt.timedelta(days=80))
    world.sweep()

    # Later applicants' repositories, with commits of the last days.
    world.add_applicant_repo(LATER_REPO)
    world.add_applicant_repo("tiny-org/no-licence", license_spdx=None)

    n["ineligible"] = open_application(world, "dee", "No Licence Yet",
                                       repository="https://github.com/tiny-org/no-licence")
    n["incomplete"] = open_application(world, "eve", "Half Filed", funding_amount="a lot")
    n["technical"] = open_application(world, "fay", HOSTILE_NAME)
    n["scored"] = open_application(world, "gus", "Scored Once")
    say(world, n["scored"], "rita", "/score technical 3")
    say(world, n["scored"], "ravi", "/needs-info Which boards will the test farm use?")
    n["community"] = open_application(world, "hal", "Community Pick")
    advance_to(world, n["community"], "community")
    for voter, vote in (("v1", "+1"), ("v2", "+1"), ("v3", "-1"), ("hal", "+1")):  # the applicant's own vote does not count
        sb.react(FUND_REPO, n["community"], voter, vote)
    n["funding"] = open_application(world, "ivy", "Funding Stage")
    advance_to(world, n["funding"], "funding")
    n["decision"] = open_application(world, "jo", "Decision Due")
    advance_to(world, n["decision"], "decision")
    n["funded"] = open_application(world, "kai", "Fresh Grant")
    advance_to(world, n["funded"], "decision")
    say(world, n["funded"], "ravi", "/approve 35000.50")
    n["withdrawn"] = open_application(world, "lu", "Changed Mind")
    say(world, n["withdrawn"], "lu", "/withdraw")
    world.sweep()  # counts the community's votes
    return Seeded(numbers=n, filed=filed, now=sb.now())


@contextmanager
def frozen_world(app_key: str, start: dt.datetime = START) -> Iterator[World]:
    """A world whose clock stands still at `start` but for `travel`, so every figure is the same
    each run. Like the `sandbox` fixture, any request GitHub would refuse fails the test."""
    with running_world(now=lambda: start, openapi=OPENAPI_SUBSET, app_id=APP_ID, app_key=app_key,
                       quiet=False) as world:
        yield world
    assert not world.sandbox.violations, world.sandbox.violations


@contextmanager
def seeded_world(app_key: str) -> Iterator[tuple[World, Seeded]]:
    """A frozen world with `seed_pipeline` done, for a module of tests that only read it (seeding
    takes a second or two)."""
    with frozen_world(app_key) as world:
        yield world, seed_pipeline(world)
