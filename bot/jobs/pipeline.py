"""One application's run: lock → read → plan → gather → decide → apply.

Every handler ends in `run_application` (or `run_report_issue`), and so does the sweep, with a synthetic
trigger: scheduled work is handled exactly like a webhook. Under the application's lock the issue and
its comments are read again (never trusted from a payload, SPEC §11); `plan` (pure) names everything
else `decide` needs; one `gather` pass reads it; `decide` (pure) says what to change; `apply` carries
it out in the fewest writes, comparing with what is there, so a repeated run changes nothing. A write
GitHub refuses for good is returned as a failure, and the status comment — written last — records it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field

from bot.github.facts import repo_facts
from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError, GitHubUnavailable, NotFound
from bot.github.voters import voter_facts
from bot.github.own_issues import GONE
from bot.jobs.context import Context
from bot.policy.assign import reviewer_load
from bot.policy.decide import Decision, decide, with_failures
from bot.policy.evidence_flow import evidence_due
from bot.policy.intake import is_application
from bot.policy.ledger import ledger_of
from bot.policy.lines import action_line, write_what
from bot.policy.markers import STATUS_MARKER, find_status, notice, notices_posted, status_comments
from bot.policy.models import (
    Action, AddLabels, Assign, CloseIssue, Comment, DeleteComment, Issue, PostComment, React, RemoveLabel, SyncLabel,
    UpsertIssue, UpsertStatusComment,
)
from bot.policy.not_a_fund import NotAFund
from bot.policy.not_a_fund import answer as not_a_fund_answer
from bot.policy.plan import Reads, plan
from bot.policy.record import Note, Record, WriteFailure
from bot.policy.report_issue import Named, decide_report_issue, report_language
from bot.policy.i18n import translator
from bot.policy.roles import all_teams
from bot.policy.rules import Rules
from bot.policy.seal import verified
from bot.policy.snapshot import Snapshot
from bot.policy.triggers import Trigger, TriggerKind

log = logging.getLogger("fundbot.pipeline")


# --- one application ----------------------------------------------------------------------------


def run_application(ctx: Context, gateway: GitHubGateway, issue: Issue, trigger: Trigger, *, rules: Rules,
                    dry_run: bool = False, extra_posted: frozenset[str] = frozenset(),
                    delivery: str | None = None) -> "Applied":
    """lock → read → plan → gather → decide → apply for one application of the fund `rules` run. `issue`
    only names it: it is read again. A run that may change the fund-state issue (a grant, `/away`, an
    assignment by load) also holds the fund's lock, so the ledger it checks the pool with is the one it
    writes: two `/approve`s racing for the last of the pool cannot both succeed."""
    with ctx.locks.application(issue.repo, issue.number):
        now = ctx.clock()
        fresh = gateway.issue(issue.repo, issue.number)
        comments = tuple(gateway.comments(issue.repo, issue.number))
        if trigger.comment is not None and all(c.id != trigger.comment.id for c in comments):
            comments += (trigger.comment,)  # GitHub's list may lag the webhook by a moment
        found = verified(find_status(comments, gateway.app_login)[1], ctx.seal_key, fresh.repo, fresh.number,
                         ctx.seal_previous)
        form = rules.read_application(fresh.body)
        reads = plan(trigger, fresh, comments, found.record, form, rules, now)
        with ctx.locks.fund(issue.repo) if reads.fund_state else contextlib.nullcontext():
            snap = gather(ctx, gateway, reads, rules, now, Snapshot(
                issue=fresh, comments=comments, status_comment=find_status(comments, gateway.app_login)[0],
                found=found, duplicates=tuple(status_comments(comments, gateway.app_login)[1:]), form=form,
                posted=notices_posted(comments, gateway.app_login) | extra_posted, seal_key=ctx.seal_key))
            decision = decide(trigger, snap, rules, now)
            applied = _carry_out(ctx, gateway, snap, decision, rules, now, dry_run, delivery)
    if not dry_run and evidence_due(decision.record, rules):
        applied.follow_ups.append((fresh.repo, fresh.number))  # read after this run (`bot.jobs.evidence`)
    return applied


def _carry_out(ctx: Context, gateway: GitHubGateway, snap: Snapshot, decision: Decision, rules: Rules,
               now: dt.datetime, dry_run: bool, delivery: str | None) -> "Applied":
    """The writes before the record first; if GitHub refused some for good, the record says so; then the
    record (the status comment) and what follows it."""
    split = next((i for i, a in enumerate(decision.actions) if isinstance(a, UpsertStatusComment)),
                 len(decision.actions))
    applied = apply(gateway, decision.actions[:split], now, on=snap, dry_run=dry_run, delivery=delivery)
    if applied.failures:
        decision = with_failures(decision, applied.failures, snap, rules, now)
    rest = apply(gateway, decision.actions[split:], now, on=snap, dry_run=dry_run, delivery=delivery)
    applied.absorb(rest)
    for marker, opened in applied.opened.items():
        ctx.funds.issues.remember(snap.issue.repo, marker, opened.number)
    applied.record = decision.record
    return applied


def gather(ctx: Context, gateway: GitHubGateway, reads: Reads, rules: Rules, now: dt.datetime,
           known: Snapshot) -> Snapshot:
    """One pass over what `plan` named, on top of what is `known` (the issue, its comments, the record)."""
    issue, record = known.issue, known.record
    facts = repo_facts(gateway, reads.repo, rules.eligibility.window_days, now) if reads.repo is not None else None
    reactions = tuple(gateway.issue_reactions(issue.repo, issue.number)) if reads.reactions else None
    ask = reads.voters
    voters = voter_facts(gateway, ctx.voters, ask.rules, ask.opened, reactions, ask.excluded, ask.limit) \
        if ask is not None and reactions is not None else {}
    team_names = all_teams(rules)
    members = {login.lower(): ctx.teams.teams_of(gateway, login, team_names) for login in reads.team_lookups}
    # Only now, with the roles known, the names a reviewer's /assign gives are looked up.
    named = sorted({name for ask in reads.assign if ask.allowed(members.get(ask.login.lower(), frozenset()))
                    for name in ask.names})
    assignable = {name.lower(): gateway.can_be_assigned(issue.repo, name) for name in named}
    collaborators = gateway.collaborators(issue.repo) if reads.collaborators else None
    # A run that may write the fund-state issue asks, if there is none, whether grants were made: then it
    # was lost, and what is written says its grants are incomplete (never an empty ledger over real grants).
    granted = rules.stages.outcomes["funded"].label.name if reads.fund_state else None
    fund = ctx.funds.issues.fund_state(gateway, issue.repo, rules.stages.labels.bot.name, granted_label=granted) \
        if reads.fund else None
    load = None
    if reads.load and fund is not None:
        open_applications = gateway.issues(issue.repo, labels=rules.stages.labels.application.name, state="open")
        people = gateway.collaborators(issue.repo, limit=100) if reads.load_collaborators else None
        load = reviewer_load(rules, open_applications, people, fund.state, now.astimezone(dt.timezone.utc).date())
    # Conflicts beyond the data read: reviewers who are public members of the applicant's organisation,
    # each looked up once per application (the record keeps the answer) and cached across applications.
    org = reads.org_of(facts)
    candidates = {c for cs in load.candidates.values() for c in cs} if load else set()
    affiliations = {who: ctx.teams.public_member(gateway, org, who) for who in reads.affiliations(candidates)} \
        if org else {}
    ledger = ledger_of(fund.state, reads.ledger_round or "", issue.number) if reads.ledger and fund is not None else None
    return dataclasses.replace(known, repo_facts=facts, reactions=reactions, team_members=members,
                               assignable=assignable, collaborators=collaborators, load=load,
                               affiliations=affiliations, ledger=ledger, fund=fund if reads.fund_state else None,
                               voters=voters,
                               away=fund.state.away_on(now.astimezone(dt.timezone.utc).date())
                               if reads.away and fund is not None else frozenset())


# --- a progress-report issue ---------------------------------------------------------------------


def run_report_issue(ctx: Context, gateway: GitHubGateway, report: Issue, *, rules: Rules, dry_run: bool = False,
                     delivery: str | None = None) -> "Applied":
    """A progress-report issue: refused with a reply that says why, or recorded on its application."""
    with ctx.locks.application(report.repo, report.number):
        now = ctx.clock()
        fresh = gateway.issue(report.repo, report.number)
        comments = tuple(gateway.comments(fresh.repo, fresh.number))
        posted = notices_posted(comments, gateway.app_login)
        form = rules.read_report(fresh.body)
        named, application = _named(gateway, fresh, form.application_number, rules)
        tr = translator(report_language(rules, form, application))
        decision = decide_report_issue(fresh, form, named, posted, tr)
        applied = apply(gateway, decision.actions, now, on=Snapshot(issue=fresh, comments=comments, posted=posted),
                        dry_run=dry_run, delivery=delivery)
    if decision.forward is None or application is None:
        return applied
    trigger = Trigger(TriggerKind.REPORT_ISSUE, actor=decision.forward.author, report=decision.forward)
    applied.absorb(run_application(ctx, gateway, application, trigger, rules=rules, dry_run=dry_run,
                                   extra_posted=posted, delivery=delivery))
    return applied


def _named(gateway: GitHubGateway, report: Issue, number: int | None, rules: Rules) -> tuple[Named, Issue | None]:
    """:calls: `GET /repos/{o}/{r}/issues/{number}` for the issue a report names."""
    if number is None:
        return Named.NOTHING, None
    if number == report.number:
        return Named.NOT_APPLICATION, None
    try:
        application = gateway.issue(report.repo, number)
    except NotFound:
        return Named.MISSING, None
    if not is_application(application, rules):
        return Named.NOT_APPLICATION, None
    return Named.APPLICATION, application


# --- an application where no fund is served -------------------------------------------------------


def run_outside_fund(ctx: Context, gateway: GitHubGateway, issue: Issue, why: NotAFund, *, dry_run: bool = False,
                     delivery: str | None = None) -> "Applied":
    """An application filed where the App is installed but no fund is served: its one answer
    (`bot.policy.not_a_fund`), decided from the issue and its comments read again under its lock — so an
    `opened` and a `labeled` arriving together, or a redelivery, answer once. :calls: the issue, its
    comments, and at most one comment written."""
    with ctx.locks.application(issue.repo, issue.number):
        fresh = gateway.issue(issue.repo, issue.number)
        comments = tuple(gateway.comments(fresh.repo, fresh.number))
        posted = notices_posted(comments, gateway.app_login)
        actions = not_a_fund_answer(fresh, why, posted, ctx.rules)
        return apply(gateway, actions, ctx.clock(), on=Snapshot(issue=fresh, comments=comments, posted=posted),
                     dry_run=dry_run, delivery=delivery)


# --- apply -----------------------------------------------------------------------------------------


@dataclass
class Applied:
    """What `apply` did (or, in a dry run, would do): one line per write, what GitHub refused, and the
    issues it opened (marker -> the issue)."""

    lines: list[Note] = field(default_factory=list)
    failures: list[WriteFailure] = field(default_factory=list)
    refused: list[Action] = field(default_factory=list)  # the actions of `failures`, in the same order
    opened: dict[str, Issue] = field(default_factory=dict)
    record: Record | None = None  # the application's record as decided (what the sweep reconciles with)
    follow_ups: list[tuple[str, int]] = field(default_factory=list)  # applications wanting an evidence pack

    def absorb(self, other: "Applied") -> None:
        self.follow_ups += other.follow_ups
        self.lines += other.lines
        self.failures += other.failures
        self.refused += other.refused
        self.opened.update(other.opened)


def apply(gateway: GitHubGateway, actions: tuple[Action, ...], now: dt.datetime, *, repo: str | None = None,
          on: Snapshot | None = None, dry_run: bool = False, delivery: str | None = None) -> Applied:
    """Carry out `actions` (on the snapshot's issue, `on`, or in `repo`); skip whatever is already true.

    A write GitHub refuses for good (422, 404, 410, a 403 that is not a rate limit) does not stop the
    others: it is logged and returned as a failure, never retried — so one hostile input can never leave
    an application stuck (SPEC §11). GitHub being unavailable still fails the whole run, to be retried
    or finished by the sweep; so does a refused status comment or fund issue, which hold state."""
    repo = on.issue.repo if on is not None else repo
    assert repo is not None
    number = on.issue.number if on is not None else 0
    done = Applied()
    present = {label.lower() for label in on.issue.labels} if on is not None else set()
    for action in actions:
        if on is not None and _already_true(action, on, present):
            continue
        done.lines.extend(_lines(action, number))
        if dry_run:
            continue
        try:
            opened = _write(gateway, repo, on, action)
        except GitHubUnavailable:
            raise
        except GitHubError as err:
            if isinstance(action, (UpsertStatusComment, UpsertIssue)) or err.status in (0, 401):
                raise
            what = write_what(action)
            done.failures.append(WriteFailure(now, what, err.status, err.message[:300]))
            done.refused.append(action)
            log.warning("GitHub refused a write; going on without it",
                        extra={"delivery": delivery, "repo": repo, "issue": number, "status": err.status,
                               "reason": f"{what.code}: {err.message[:200]}"})
            continue
        if opened is not None:
            done.opened[opened[0]] = opened[1]
    return done


def _lines(action: Action, number: int) -> list[Note]:
    if isinstance(action, UpsertIssue):
        return [action_line(change, number) for change in action.changes]
    if isinstance(action, SyncLabel):
        return []  # said by the label sync itself (`bot.jobs.fund_setup`)
    return [action_line(action, number)]


def _write(gateway: GitHubGateway, repo: str, on: Snapshot | None, action: Action) -> tuple[str, Issue] | None:
    """One write; an issue opened is handed back with its marker."""
    number = on.issue.number if on is not None else 0
    match action:
        case UpsertStatusComment(body=body):
            assert on is not None
            if on.status_comment is None:  # the answer an applicant waits for: paced ahead of the rest
                gateway.create_comment(repo, number, body, marker=STATUS_MARKER, urgent=True)
            else:
                gateway.edit_comment(repo, on.status_comment.id, body)
        case AddLabels(names=names):
            gateway.add_labels(repo, number, names)
        case RemoveLabel(name=name):
            gateway.remove_label(repo, number, name)
        case PostComment(key=key, body=body, number=other):
            marker = notice(key)
            gateway.create_comment(repo, other or number, f"{body}\n\n{marker}", marker=marker)
        case React(comment_id=comment_id, content=content):
            gateway.react_to_comment(repo, comment_id, content)
        case Assign(logins=logins):
            gateway.add_assignees(repo, number, logins)
        case CloseIssue(reason=reason, number=other):
            gateway.update_issue(repo, other or number, state="closed", state_reason=reason)
        case DeleteComment(comment_id=comment_id):
            gateway.delete_comment(repo, comment_id)
        case UpsertIssue():
            return _upsert_issue(gateway, repo, action)
        case SyncLabel(current=None, name=name, color=color, description=description):
            gateway.create_label(repo, name, color, description)
        case SyncLabel(current=current, name=name, color=color, description=description):
            gateway.update_label(repo, current, name, color, description)
        case _:
            raise TypeError(f"{type(action).__name__} is not carried out by apply (a fund change without the "
                            "fund's state read: plan() did not ask for it)")
    return None


def _upsert_issue(gateway: GitHubGateway, repo: str, action: UpsertIssue) -> tuple[str, Issue] | None:
    """:calls: `PATCH /repos/{o}/{r}/issues/{n}`, or `POST …/issues` the first time — and when the issue
    is gone since it was read (deleted: 404, 410; transferred: 301), a new one."""
    fields = {"body": action.body}
    if action.state:
        fields["state"] = action.state
    if action.state_reason:
        fields["state_reason"] = action.state_reason
    if action.number is not None:
        try:
            gateway.update_issue(repo, action.number, **fields)
            return None
        except GitHubError as err:
            if err.status not in GONE:
                raise
            log.warning("an issue the App keeps is gone; opening it anew",
                        extra={"repo": repo, "issue": action.number, "reason": action.marker})
        if action.state == "closed":
            return None  # nothing to say in a new issue that would be closed at once
    issue = gateway.create_issue(repo, action.title, action.body, labels=action.labels, marker=action.marker)
    if action.labels and not issue.has_label(action.labels[0]):
        gateway.add_labels(repo, issue.number, action.labels[:1])  # GitHub drops labels it will not set
    return action.marker, issue


def _already_true(action: Action, snap: Snapshot, present: set[str]) -> bool:
    match action:
        case UpsertStatusComment(body=body):
            return snap.status_comment is not None and snap.status_comment.body == body
        case AddLabels(names=names):
            return all(name.lower() in present for name in names)
        case RemoveLabel(name=name):
            return name.lower() not in present
        case PostComment(key=key):
            return key in snap.posted
        case Assign(logins=logins):
            return all(login.lower() in {a.lower() for a in snap.issue.assignees} for login in logins)
        case CloseIssue(number=None):
            return snap.issue.state == "closed"
    return False


__all__ = ["Applied", "Comment", "apply", "gather", "run_application", "run_outside_fund", "run_report_issue"]
