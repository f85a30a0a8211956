"""SPEC §11's promises as invariants, checked by a stateful property test against the sandbox GitHub.

Hypothesis drives people (applicants, reviewers, a stranger) filing, editing, commenting, labelling
and voting, and GitHub delivering what they did: late, out of order, twice, thirty at once, with
payloads gone stale, across a restart of the service, with answers lost on the way, while the sweep
runs. After every step, once what was sent has been processed:

- each application has at most one status comment (exactly one once a delivery for it ran);
- no one-off comment (a reply, a reminder) was posted twice;
- the stage or outcome label agrees with the record, once no delivery for the application is pending;
- the App never edited or deleted a comment it did not write;
- nothing the App wrote is over GitHub's 65,536 characters (the longest is printed at the end).
"""
from __future__ import annotations

import copy
import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, precondition, rule

from bot.demo.samples import application_body
from bot.demo.world import FUND_REPO, World, running_world
from bot.policy.markers import STATUS_MARKER
from bot.sandbox import Faults

import yaml  # the money invariant's fund file (issue 23)
from bot.config.rules import fund_rules
from bot.config.settings import DEFAULT_RULES_DIR
from bot.policy.approvals import released_with_approvers
from bot.policy.rules import FUND_FILE

APP = "fund-bot[bot]"
PEOPLE = ("rita", "ravi", "applicant", "alice-dev", "stan")
COMMANDS = (
    "/score technical 4", "/score technical 2", "/score impact 5", "/score funding 3", "/advance", "/advance",
    "/stage screening", "/approve 20000", "/approve 9999999", "/decline Out of scope", "/withdraw", "/help",
    "/frobnicate", "/assign @rita", "/needs-info Which boards?", "/recheck", "/waive community growing",
    "```\n/advance\n```", "> /approve 1", "<pre>/decline x</pre>", "Looks good to me.",
    "/report " + "Shipped the plugin API and the ARM farm; spent on CI boards and maintainer time. " * 3,
    "\n".join(["/score technical 3"] * 12),
    "@everyone see #1 ![x](https://t.example/p.png) \u202e" + "/nope x\n" * 2_000,
)
BODIES = (
    application_body(),
    application_body(license="Apache-2.0"),
    application_body(funding_amount="a lot"),
    application_body(repository="https://github.com/tiny-org/missing"),
)
STAGE_LABELS = ("stage: technical", "stage: community", "stage: decision")
longest_written = [0]


class Fund(RuleBasedStateMachine):
    """One fund, a few applications, and GitHub delivering at its own pace."""

    applications = Bundle("applications")

    def __init__(self) -> None:
        super().__init__()
        self._context = running_world(now=lambda: dt.datetime(2027, 1, 4, 9, tzinfo=dt.timezone.utc), workers=4)
        self.world: World = self._context.__enter__()
        self.world.add_applicant_repo("tiny-org/tiny-inference")
        self.sandbox = self.world.sandbox
        self.pending: list = []  # deliveries GitHub has not sent yet (it may send them in any order)
        self.sent: list = []  # delivered at least once (GitHub's "Redeliver" sends them again)
        self.seen_comments: dict[int, str] = {}  # comment id -> author, for every comment ever listed
        self.processed: set[int] = set()  # applications some delivery or sweep has run for

    def teardown(self) -> None:
        self._context.__exit__(None, None, None)

    # --- people act (GitHub queues what it will deliver) ---------------------------------------------

    @rule(target=applications, body=st.sampled_from(BODIES))
    def file(self, body):
        opened = self.sandbox.open_issue(FUND_REPO, "applicant", "[Application]: Tiny", body,
                                         labels=["fund: application"])
        self.pending += [opened] + self.sandbox.pending_deliveries()
        return opened.payload["issue"]["number"]

    @rule(number=applications, who=st.sampled_from(PEOPLE), text=st.sampled_from(COMMANDS))
    def comment(self, number, who, text):
        self.pending.append(self.sandbox.comment(FUND_REPO, number, who, text))

    @rule(number=applications, body=st.sampled_from(BODIES))
    def edit(self, number, body):
        if self.sandbox.issue(FUND_REPO, number)["body"] != body:
            self.pending.append(self.sandbox.edit_issue(FUND_REPO, number, "applicant", body=body))

    @rule(number=applications, label=st.sampled_from(STAGE_LABELS))
    def label_by_hand(self, number, label):
        if label not in self.sandbox.issue_labels(FUND_REPO, number):
            self.pending.append(self.sandbox.label_issue(FUND_REPO, number, "rita", label))

    @rule(number=applications, who=st.sampled_from(("ann", "ben", "applicant")), vote=st.sampled_from(("+1", "-1")))
    def vote(self, number, who, vote):
        self.sandbox.react(FUND_REPO, number, who, vote)

    # --- GitHub delivers ------------------------------------------------------------------------------

    @precondition(lambda self: self.pending)
    @rule(index=st.integers(min_value=0), twice=st.booleans(), stale=st.booleans())
    def deliver_one(self, index, twice, stale):
        delivery = self.pending.pop(index % len(self.pending))  # any order
        if stale and "issue" in delivery.payload:
            delivery = copy.deepcopy(delivery)
            delivery.payload["issue"]["comments"] = 0  # as the payload was when the event happened
        self._post([delivery] * (2 if twice else 1))

    @precondition(lambda self: len(self.pending) >= 2)
    @rule(count=st.integers(min_value=2, max_value=30))
    def deliver_at_once(self, count):
        burst, self.pending = self.pending[:count], self.pending[count:]
        self._post(burst + burst[: count // 3])  # some of them twice, all of them together

    @precondition(lambda self: self.sent)
    @rule(index=st.integers(min_value=0))
    def redeliver(self, index):
        self._post([self.sent[index % len(self.sent)]])

    @rule()
    def restart(self):
        """The service restarts (what it remembered of delivery ids is gone)."""
        self.world.runtime.queue.close(10)
        self.world = World(self.sandbox, self.world.settings.api_url, self.world.settings.app_id,
                           self.world.settings.private_key, workers=4, seed=False)

    @rule(lose=st.booleans())
    def sweep(self, lose):
        if lose:
            self.sandbox.faults = Faults(lost_answer_rate=0.3, seed=7)
        try:
            self.world.sweep()
        finally:
            self.sandbox.faults = Faults()
        self.processed |= self._applications()

    @rule(days=st.integers(min_value=1, max_value=40))
    def travel(self, days):
        self.sandbox.travel(dt.timedelta(days=days))

    def _post(self, deliveries):
        for delivery in deliveries:
            self.world.post(delivery, wait=False)
        assert self.world.runtime.queue.join(60)
        self.world.flush()
        self.sent += [d for d in deliveries if d not in self.sent]
        for delivery in deliveries:
            if "issue" in delivery.payload:
                self.processed.add(delivery.payload["issue"]["number"])

    # --- what must always hold ----------------------------------------------------------------------

    def _applications(self) -> set[int]:
        numbers, n = set(), 1
        while True:
            try:
                issue = self.sandbox.issue(FUND_REPO, n)
            except KeyError:
                return numbers
            if any(label["name"] == "fund: application" for label in issue["labels"]):
                numbers.add(n)
            n += 1

    @invariant()
    def one_status_comment_and_nothing_twice(self):
        for number in self._applications():
            comments = self.sandbox.comments(FUND_REPO, number)
            for c in comments:
                self.seen_comments.setdefault(c["id"], c["user"]["login"])
            own = [c for c in comments if c["user"]["login"] == APP]
            statuses = [c for c in own if c["body"].startswith(STATUS_MARKER)]
            assert len(statuses) <= 1, f"#{number}: {len(statuses)} status comments"
            keys = [k for c in own for k in re.findall(r"<!-- fund-bot:notice (\S+) -->", c["body"])]
            assert len(keys) == len(set(keys)), f"#{number}: posted twice: {sorted(keys)}"
            for c in own:
                longest_written[0] = max(longest_written[0], len(c["body"]))
                assert len(c["body"]) < 65_536

    @invariant()
    def labels_agree_with_the_record(self):
        waiting = {d.payload["issue"]["number"] for d in self.pending if "issue" in d.payload}
        for number in self._applications() - waiting:
            record = self.world.record(number)
            if record is None:
                continue
            labels = set(self.sandbox.issue_labels(FUND_REPO, number))
            rules = self.world.rules
            wanted = rules.stages.outcomes[record.outcome.name].label.name if record.outcome else \
                rules.stages.stage(record.stage).label.name
            mirrored = {s.label.name for s in rules.stages.stages} | {o.label.name for o in rules.stages.outcomes.values()}
            assert labels & mirrored == {wanted}, f"#{number}: {sorted(labels)} but the record says {wanted}"

    @invariant()
    def only_its_own_comments_are_edited_or_deleted(self):
        for r in self.sandbox.requests():
            if r.method in ("PATCH", "DELETE") and "/issues/comments/" in r.path and r.status < 300:
                comment_id = int(r.path.rsplit("/", 1)[-1])
                assert self.seen_comments.get(comment_id, APP) == APP, f"{r.method} {r.path}"


Fund.TestCase.settings = settings(
    max_examples=int(__import__("os").environ.get("FUNDBOT_PROPERTY_EXAMPLES", "25")), stateful_step_count=30,
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestFund = Fund.TestCase


@pytest.fixture(scope="module", autouse=True)
def report_longest(request):
    yield
    print(f"\nlongest comment the App wrote in the property test: {longest_written[0]} characters")


# --- money: no release without its approvers (issue 23) --------------------------------------------------------

TWO_APPROVERS = yaml.safe_dump({"funding": {**yaml.safe_load((DEFAULT_RULES_DIR / "funding.yml").read_text()),
                                            "tranches": [50, 50], "approvals": {"grant": 2, "tranche": 2}}})


TO_DECISION = (("rita", "/score technical 4"), ("ravi", "/score technical 5"), ("rita", "/advance"),
               ("rita", "/advance"), ("ravi", "/score funding 4"), ("rita", "/advance"))


class FundWithTwoApprovers(Fund):
    """The same fund, and the same GitHub, with `approvals: {grant: 2, tranche: 2}` in its `.github/fund-bot.yml`
    (a restarted service reads it too): reviewers approve and accept reports at any moment, alone or together,
    twice, in any order of delivery. No part of a grant is ever released without its distinct approvers."""

    def __init__(self) -> None:
        super().__init__()
        self.sandbox.add_file(FUND_REPO, FUND_FILE, TWO_APPROVERS)
        self.money_rules = fund_rules(self.world.rules, TWO_APPROVERS, {})

    @rule(number=Fund.applications)
    def review_to_decision(self, number):
        for who, text in TO_DECISION:
            self.pending.append(self.sandbox.comment(FUND_REPO, number, who, text))

    @rule(number=Fund.applications, who=st.sampled_from(("rita", "ravi", "stan")),
          text=st.sampled_from(("/approve 20000", "/approve 30000", "/accept-report")))
    def approve(self, number, who, text):
        self.pending.append(self.sandbox.comment(FUND_REPO, number, who, text))

    @invariant()
    def no_release_without_its_approvers(self):
        for number in self._applications():
            record = self.world.record(number)
            if record is not None:
                assert released_with_approvers(record, self.money_rules) == [], f"#{number}: {record.tranches}"


FundWithTwoApprovers.TestCase.settings = settings(
    max_examples=max(int(__import__("os").environ.get("FUNDBOT_PROPERTY_EXAMPLES", "25")) // 2, 1),
    stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestFundWithTwoApprovers = FundWithTwoApprovers.TestCase
