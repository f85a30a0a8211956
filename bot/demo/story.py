"""`fundbot demo`: one application's whole life on a sandbox GitHub, told as the people on the issue see it.

No credentials, no network beyond 127.0.0.1: a throwaway App key is made in memory, the sandbox
GitHub is served on loopback (`SandboxServer`), and the real service (`create_app`, through
`World`) answers its signed webhook deliveries. The story follows the rules it is given, so a fund
administrator can preview a change to `rules/` (`fundbot demo --rules DIR`): the review walks the
stages those rules define, and stops, saying why, where the rules stop it. With `--language zh` the
applicant files the Chinese forms, and the story is told in Chinese.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import yaml

from bot.config.fund_files import extends_of, local_fund_files, rules_from
from bot.config.fund_yaml import load_fund_yaml
from bot.config.layers import EXTENDS
from bot.config.rules import load_rules
from bot.config.settings import DEFAULT_RULES_DIR, DEFAULT_TEMPLATES_DIR
from bot.demo import evidence
from bot.demo.samples import REPORT_TEXT, REPORT_TEXT_ZH, application_body, report_body
from bot.demo.world import FUND_REPO, INSTALLATION_ID, World, running_world
from bot.jobs.fund_setup import prepare_fund
from bot.policy.i18n import SOURCE, Translator, translator
from bot.policy.markers import STATUS_MARKER
from bot.policy.models import is_bot
from bot.policy.record import Record
from bot.policy.reports import report_status
from bot.policy.rules import FUND_FILE, Rules, RulesError, StageSpec
from bot.sandbox import Delivery

APPLICANT = "alice-dev"  # the issue's author, also named as maintainer in the sample form
REVIEWERS = ("rita", "ravi", "rosa")  # collaborators of the fund's repository
STRANGER = "stan"
VOTERS = (("ann", "+1"), ("ben", "+1"), ("cat", "-1"), (APPLICANT, "+1"))  # the applicant's own vote does not count
AMOUNT = "40000"  # what the sample form asks for, and what the reviewers grant
REPORT_TEXTS = {"en": REPORT_TEXT, "zh": REPORT_TEXT_ZH}
AMOUNT_IN_WORDS = {"en": "forty thousand dollars", "zh": "四万美元"}  # the applicant's first mistake
STEP_GAP = dt.timedelta(days=2)  # the review takes a few days between steps, as it would
EMOJI = {"+1": "👍", "-1": "👎"}

_HIDDEN = re.compile(r"<!--.*?-->", re.DOTALL)
_SUB = re.compile(r"</?(?:sub|details|summary|b)>")


def visible_lines(body: str) -> list[str]:
    """What a person sees of a comment, as terminal lines: hidden `<!-- ... -->` blocks and
    `<sub>`, `<details>`, `<summary>` and `<b>` tags dropped, the invisible joiner that stops mentions removed, blank lines squeezed."""
    text = _SUB.sub("", _HIDDEN.sub("", body)).replace("\u2060", "")
    return [line.rstrip() for line in text.strip().splitlines() if line.strip()]


@dataclass
class IssueView:
    """One issue as people see it: comments (id -> body, author), labels, state, 👍 on comments."""

    comments: dict[int, tuple[str, str]] = field(default_factory=dict)
    bot_ids: set[int] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    state: str = "open"
    thumbs: dict[int, int] = field(default_factory=dict)


class Story:
    """Runs the steps and prints, after each, what changed on the issues it follows."""

    def __init__(self, world: World, out: TextIO, language: str = SOURCE, rules: Rules | None = None) -> None:
        self.world = world
        self.language = language  # the applicant's: the forms filed, and the language the story is told in
        self.tr: Translator = translator(language)
        self.sandbox = world.sandbox
        self.rules: Rules = rules or world.rules  # the fund's, when it has a file of its own
        self.out = out
        self.steps = 0
        self.issues: dict[int, str] = {}  # number -> what it is
        self.seen: dict[int, IssueView] = {}
        self.application = 0  # the application's issue number, once filed
        self.impact_scored = False

    # --- telling -------------------------------------------------------------------------------

    def say(self, text: str = "", indent: int = 0) -> None:
        print(" " * indent + text if text else "", file=self.out)

    def step(self, title: str, act: Callable[[], Delivery | None], *, quote: str = "", note: str = "") -> None:
        """One thing a person (or the clock) does; then what everyone sees on the issues."""
        self.steps += 1
        self.say()
        self.say(f"{self.steps:>2} ▸ {self.tr.date(self.sandbox.now().date())} · {title}")
        if note:
            self.say(f"({note})", 5)
        for line in quote.splitlines():
            self.say(f"│ {line}", 5)
        delivery = act()
        if delivery is not None:
            if delivery.event == "issues" and delivery.action == "opened":
                number = delivery.payload["issue"]["number"]
                self.issues[number] = self.tr.gettext("progress report") if self.issues \
                    else self.tr.gettext("application")
                self.application = self.application or number
            self.world.deliver(delivery)
        self.show_changes()

    def comment(self, user: str, text: str, *, why: str = "") -> None:
        """`user` comments `text` on the application."""
        number = self.application
        title = self.tr.gettext("%(user)s comments on #%(number)s", user=user, number=number)
        self.step(f"{title}{why}", lambda: self.sandbox.comment(FUND_REPO, number, user, text), quote=text)

    def view(self, number: int) -> IssueView:
        issue = self.sandbox.issue(FUND_REPO, number)
        view = IssueView(labels=set(self.sandbox.issue_labels(FUND_REPO, number)), state=issue["state"])
        for c in self.sandbox.comments(FUND_REPO, number):
            view.comments[c["id"]] = (c["body"], c["user"]["login"])
            if is_bot(c["user"]["login"], c["user"]["type"]):
                view.bot_ids.add(c["id"])
            else:
                view.thumbs[c["id"]] = c["reactions"]["+1"]
        return view

    def show_changes(self) -> None:
        for number, kind in self.issues.items():
            before, now = self.seen.get(number, IssueView()), self.view(number)
            self.seen[number] = now
            lines = self._changes(before, now)
            if lines and len(self.issues) > 1:
                self.say(self.tr.gettext("on #%(number)s (%(kind)s):", number=number, kind=kind), 5)
            for line in lines:
                self.say(line, 5 + (2 if len(self.issues) > 1 else 0))

    def _changes(self, before: IssueView, now: IssueView) -> list[str]:
        tr = self.tr
        lines: list[str] = []
        for cid in sorted(now.thumbs):
            if now.thumbs[cid] > before.thumbs.get(cid, 0):
                lines.append("👍 " + tr.gettext("fund-bot reacts to %(user)s's comment (done)", user=now.comments[cid][1]))
        for cid in sorted(now.bot_ids):
            body = now.comments[cid][0]
            shown = visible_lines(body)
            if cid not in before.comments:
                lines.append("💬 " + (tr.gettext("fund-bot posts its status comment:") if STATUS_MARKER in body
                                      else tr.gettext("fund-bot comments:")))
                lines += [f"   {line}" for line in shown]
            elif before.comments[cid][0] != body:
                old = set(visible_lines(before.comments[cid][0]))
                changed = [line for line in shown if line not in old]
                if changed:
                    lines.append("✏️  " + tr.gettext("fund-bot updates its status comment; new lines:"))
                    lines += [f"   {line}" for line in changed]
        if now.labels != before.labels:
            moves = [f"+{n}" for n in sorted(now.labels - before.labels)]
            moves += [f"−{n}" for n in sorted(before.labels - now.labels)]
            lines.append("🏷  " + tr.gettext("labels: %(labels)s   (%(moves)s)",
                                             labels=", ".join(sorted(now.labels)) or tr.gettext("(none)"),
                                             moves=" ".join(moves)))
        if now.state != before.state:
            lines.append("🔒 " + (tr.gettext("the issue is now closed") if now.state == "closed"
                                  else tr.gettext("the issue is now open")))
        if not lines:
            lines.append(tr.gettext("(nothing changes on the issue yet)"))
        return lines

    # --- the lifecycle -------------------------------------------------------------------------

    def run(self) -> None:
        self.apply()
        if self.review():
            self.report()

    def record(self) -> Record | None:
        return self.world.record(self.application)

    def apply(self) -> None:
        tr, lang = self.tr, self.language
        self.world.add_applicant_repo("tiny-org/tiny-inference")
        evidence.seed(self.sandbox, "tiny-org/tiny-inference")  # what the evidence pack finds (issue 21)
        wrong = application_body(lang=lang, funding_amount=AMOUNT_IN_WORDS[lang], milestones="")
        self.step(tr.gettext("%(user)s files an application (two mistakes: the amount in words, no milestones)",
                             user=APPLICANT),
                  lambda: self.sandbox.open_issue(FUND_REPO, APPLICANT, "[Application]: Tiny Inference", wrong,
                                                  labels=[self.rules.stages.labels.application.name]))
        self.sandbox.travel(dt.timedelta(hours=3))
        self.step(tr.gettext("%(user)s edits the issue: amount %(amount)s, milestones filled in", user=APPLICANT,
                             amount=tr.amount(Decimal(AMOUNT), self.rules.funding.currency)),
                  lambda: self.sandbox.edit_issue(FUND_REPO, self.application, APPLICANT,
                                                  body=application_body(lang=lang)))

    def review(self) -> bool:
        """Walk the stages the rules define; True when the application ends up funded."""
        stages = self.rules.stages
        stranger_heard = False
        for _ in range(2 * len(stages.stages) + 2):  # every stage once, with room for the rules' detours
            record = self.record()
            if record is None or record.outcome:
                break
            stage = stages.stage(record.stage)
            if stage is None:
                break
            self.sandbox.travel(STEP_GAP)
            if not stranger_heard and stage is not stages.first:
                stranger_heard = True
                self.comment(STRANGER, "/advance", why=" " + self.tr.gettext("(he is not a reviewer)"))
            self.act_in(stage, first=stage is stages.first)
            after = self.record()
            if after.stage == record.stage and not after.outcome:
                self.say()
                self.say(self.tr.gettext("The review cannot leave %(stage)s under these rules; the demo stops here.",
                                         stage=stage.name))
                return False
        record = self.record()
        if not record or not record.outcome or record.outcome.name != "funded":
            self.say()
            self.say(self.tr.gettext("The application was not funded under these rules, so no progress reports "
                                     "follow."))
            return False
        return True

    def act_in(self, stage: StageSpec, *, first: bool) -> None:
        """What the reviewers (and the community) do in `stage` to move the application on."""
        if stage.decides:
            self.comment(REVIEWERS[0], f"/approve {AMOUNT}")
            return
        if stage.community_vote:
            def vote() -> None:
                for user, content in VOTERS:
                    self.sandbox.react(FUND_REPO, self.application, user, content)
            votes = ", ".join(f"{user} {EMOJI[content]}" for user, content in VOTERS)
            self.step(self.tr.gettext("the community reacts to the application: %(votes)s", votes=votes), vote,
                      note=self.tr.gettext("GitHub sends no webhook for reactions: the bot counts them when it next "
                                           "looks"))
        criteria = self.rules.stages.criteria
        criterion = stage.name if stage.name in criteria else criteria[0]
        needed = min(stage.min_scores or 0, len(REVIEWERS))
        why = " " + self.tr.gettext("(%(stage)s does not advance by itself under these rules)", stage=stage.name) \
            if first else ""
        if not needed:
            self.comment(REVIEWERS[0], "/advance", why=why)
            return
        for i, reviewer in enumerate(REVIEWERS[:needed]):
            lines = [f"/score {criterion} {4 - i % 2}"]
            if i == 0 and "impact" in criteria and criterion != "impact" and not self.impact_scored:
                self.impact_scored = True  # once: to show several commands in one comment
                lines.append("/score impact 5")
            if i == needed - 1:
                lines.append("/advance")
            self.comment(reviewer, "\n".join(lines))

    def report(self) -> None:
        """The calendar after the grant: a reminder, a `/report`, a missed date, a report issue."""
        self.sweep_on(self._next_reminder())
        self.sandbox.travel(dt.timedelta(days=3))
        evidence.grow(self.sandbox, "tiny-org/tiny-inference")  # the report's reply shows the change
        self.comment(APPLICANT, f"/report\n{REPORT_TEXTS[self.language]}")
        reminder = self._next_reminder()
        if reminder is None:
            return
        self.sweep_on(reminder)
        self.sweep_on(reminder + dt.timedelta(days=self.rules.reports.reminder_lead_days
                                              + self.rules.reports.overdue_grace_days))
        self.step(self.tr.gettext("%(user)s opens a progress-report issue naming #%(number)s", user=APPLICANT,
                                  number=self.application),
                  lambda: self.sandbox.open_issue(FUND_REPO, APPLICANT, "Progress report: Tiny Inference",
                                                  report_body(self.application, lang=self.language),
                                                  labels=[self.rules.stages.labels.report.name]))

    def _next_reminder(self) -> dt.date | None:
        status = report_status(self.record(), self.rules.reports, self.sandbox.now().date())
        return status.next_due - dt.timedelta(days=self.rules.reports.reminder_lead_days) if status.next_due else None

    def sweep_on(self, day: dt.date | None) -> None:
        if day is None:
            return
        moment = dt.datetime.combine(day, dt.time(9), dt.timezone.utc)
        if moment > self.sandbox.now():
            self.sandbox.travel(moment - self.sandbox.now())
        self.step(self.tr.gettext("the scheduled sweep runs (`fundbot sweep`, daily)"), self._sweep)

    def _sweep(self) -> None:
        result = self.world.sweep()
        for failure in result.failures:
            self.say("⚠️  " + self.tr.gettext("the sweep could not finish: %(failure)s", failure=failure), 5)

    def summary(self, seconds: float) -> str:
        tr = self.tr
        counts = self.sandbox.request_counts()
        record = self.record()
        if record and record.outcome:
            amount = " " + tr.amount(Decimal(record.outcome.amount), self.rules.funding.currency) \
                if record.outcome.amount else ""
            reports = tr.ngettext("%(n)s progress report recorded", "%(n)s progress reports recorded",
                                  len(record.reports))
            where = tr.gettext("#%(number)s %(outcome)s%(amount)s, %(reports)s", number=self.application,
                               outcome=record.outcome.name, amount=amount, reports=reports)
        else:
            where = tr.gettext("#%(number)s in %(stage)s", number=self.application,
                               stage=record.stage if record else "—")
        requests = tr.gettext("%(total)s GitHub API requests (%(reads)s reads, %(writes)s writes, %(not_modified)s "
                              "answered 304)", total=counts.reads + counts.writes + counts.not_modified,
                              reads=counts.reads, writes=counts.writes, not_modified=counts.not_modified)
        steps = tr.ngettext("%(n)s step", "%(n)s steps", self.steps)
        return f"{steps} · {requests} · {seconds:.1f} s · {where}"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd())) + "/"
    except ValueError:
        return str(path)


def _fund_text(server: Rules, fund_file: Path, out: TextIO, tr: Translator) -> tuple[str, Rules]:
    """The fund's file as the sandbox repository will hold it, and the rules it makes over `server` — read
    as the bot reads a fund's (`bot.config.fund_files`). What `_extends` names is on GitHub: said, and the
    key left out of the sandbox's copy (the bot there would look for it). Raises `RulesError`, `OSError`."""
    files = local_fund_files(fund_file)
    rules = rules_from(server, files)
    text = files.own.text if files.own is not None and files.own.text is not None else ""
    target = extends_of(files)
    if target is not None:
        print(tr.gettext("note: %(file)s: _extends: %(target)s names a file on GitHub, which the demo cannot read: "
                         "it previews this file over the rules alone", file=fund_file, target=target), file=out)
        document = {k: v for k, v in load_fund_yaml(text).items() if k != EXTENDS}
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    return text, rules


def run_demo(rules_dir: Path | None, out: TextIO, language: str | None = None, fund_file: Path | None = None) -> int:
    """Run the demo with the rules in `rules_dir` (default: the shipped ones) — and, with `fund_file`, a
    fund's `.github/fund-bot.yml` in the fund's repository, over them — printing to `out`; the applicant
    writes in `language` (default: the fund's) — the forms in it, and the story told in it. Returns 0, or 2
    when the rules or the fund's file are invalid (their errors are printed)."""
    started = time.perf_counter()
    tr = translator(language or SOURCE)  # until the rules say the fund's
    rules_dir = rules_dir or DEFAULT_RULES_DIR
    fund_text = None
    try:
        rules = load_rules(rules_dir, DEFAULT_TEMPLATES_DIR)
    except RulesError as err:
        print(tr.gettext("fundbot demo: the rules in %(dir)s are invalid:", dir=rules_dir), file=out)
        for line in err.errors:
            print(f"  {line}", file=out)
        return 2
    if fund_file is not None:
        try:
            fund_text, rules = _fund_text(rules, fund_file, out, tr)
        except OSError as err:
            print(tr.gettext("fundbot demo: cannot read %(file)s: %(error)s", file=fund_file, error=err.strerror),
                  file=out)
            return 2
        except RulesError as err:
            print(tr.gettext("fundbot demo: the fund's file %(file)s is invalid over the rules in %(dir)s:",
                             file=fund_file, dir=rules_dir), file=out)
            for line in dict.fromkeys(err.errors):
                print(f"  {line.replace(FUND_FILE, str(fund_file), 1) if line.startswith(FUND_FILE) else line}",
                      file=out)
            return 2
    language = language or rules.language
    tr = translator(language)
    # A fixed start (this morning, UTC) so that every step's date reads as a calendar date.
    start = dt.datetime.now(dt.timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    # The service logs each delivery at INFO: not the story (running_world quietens it).
    with running_world(now=lambda: start, rules_dir=rules_dir, reviewers=REVIEWERS) as world:
        if fund_text is not None:
            # The fund's repository holds the file, and the bot reads it as it reads any fund's (its labels
            # made as on the App's installation): the story follows what the bot made of it.
            world.sandbox.add_file(FUND_REPO, FUND_FILE, fund_text)
            rules = prepare_fund(world.context, world.github.for_installation(INSTALLATION_ID), FUND_REPO).rules or rules
        world.sandbox.clear_log()  # count the story's requests, not the setting up
        story = Story(world, out, language, rules)
        print(tr.gettext("Fund Bot demo: the real service and a sandbox GitHub at %(url)s (offline), rules from "
                         "%(rules)s", url=world.settings.api_url, rules=_shown(rules_dir)), file=out)
        if fund_file is not None:
            print(tr.gettext("the fund's own .github/fund-bot.yml: %(file)s", file=fund_file), file=out)
        print(tr.gettext("fund repository %(repo)s · reviewers %(reviewers)s · applicant @%(applicant)s · someone "
                         "else: @%(stranger)s", repo=FUND_REPO, reviewers=", ".join("@" + r for r in REVIEWERS),
                         applicant=APPLICANT, stranger=STRANGER), file=out)
        story.run()
        print(file=out)
        print(story.summary(time.perf_counter() - started), file=out)
    return 0
