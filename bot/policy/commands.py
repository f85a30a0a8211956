"""Slash commands (SPEC §5): the parser and the registry of commands.

Each command registers its usage, help text, who may use it and its handler in one place, so
`/help` is generated from the registry and can never drift from what the bot does. Handlers are
pure: they take a `CommandContext` and return a `CommandResult` (the new record, the reply text,
and any actions). A refused command always says why.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from bot.policy.eligibility import count_words
from bot.policy.forms import AnswerError, ParsedForm, parse_amount
from bot.policy.models import Action, Assign, CloseIssue, Issue, SetAway
from bot.policy.money import format_amount
from bot.policy.record import NeedsInfo, Outcome, Record, Recusal, ReportEntry, Score, Tranche, Waiver
from bot.policy.roles import Conflict, Role, Standing, applicant_logins
from bot.policy.rules import Rules, StageSpec
from bot.policy.text import escape_block, escape_inline, shorten

# --- parsing --------------------------------------------------------------------------------

# A command is `/name` at the start of a line (up to three spaces: four make a code block),
# followed by whitespace or the end of the line, so `/usr/bin` is not a command.
# (The arguments are taken greedily and stripped after: a lazy match before `[ \t]*$` is quadratic
# on a long line of spaces.)
_COMMAND_RE = re.compile(r"^ {0,3}/([A-Za-z][A-Za-z0-9-]*)(?:[ \t]+(.*))?$")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HTML_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# GitHub renders <pre> blocks (and <code> spans) as code: what they hold is shown, never obeyed.
_PRE_RE = re.compile(r"<(pre|code)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.DOTALL | re.IGNORECASE)
MAX_COMMANDS = 10  # carried out per comment; the rest are answered in one line (SPEC §11)
MAX_ASSIGNEES = 10  # GitHub's own limit for one issue


@dataclass(frozen=True)
class ParsedCommand:
    name: str  # lower-cased, without the slash
    args: str  # the rest of the line
    rest: str = ""  # the lines after the command (only kept for commands that take a body)


# Commands whose body is the rest of the comment (no further commands are read after them).
_TAKES_BODY = {"report"}


def _keep_lines(match: re.Match[str]) -> str:
    return "\n" * match.group(0).count("\n")  # what follows a block still starts its own line


def parse_commands(body: str | None) -> list[ParsedCommand]:
    """The commands in a comment, in order; lines in code blocks, quotes and HTML comments don't count."""
    if not body:
        return []
    text = _HTML_COMMENT_RE.sub(_keep_lines, body.replace("\r\n", "\n").replace("\r", "\n"))
    text = _PRE_RE.sub(_keep_lines, text)
    lines = text.split("\n")
    commands: list[ParsedCommand] = []
    fence: str | None = None
    for index, line in enumerate(lines):
        fence_match = _FENCE_RE.match(line)
        if fence is not None:
            if fence_match and fence_match.group(1)[0] == fence[0] and len(fence_match.group(1)) >= len(fence):
                fence = None
            continue
        if fence_match:
            fence = fence_match.group(1)
            continue
        if line.lstrip().startswith(">"):
            continue
        match = _COMMAND_RE.match(line)
        if not match:
            continue
        name = match.group(1).lower()
        if name in _TAKES_BODY:
            rest = "\n".join(lines[index + 1:]).strip()
            commands.append(ParsedCommand(name=name, args=(match.group(2) or "").strip(), rest=rest))
            break
        commands.append(ParsedCommand(name=name, args=(match.group(2) or "").strip()))
    return commands


# --- context and results ---------------------------------------------------------------------


@dataclass(frozen=True)
class FundingLedger:
    """Money granted in the current round: what `/approve` checks against the pool."""

    committed: Decimal
    grants: Mapping[int, Decimal]  # issue number -> amount


@dataclass(frozen=True)
class CommandContext:
    record: Record
    issue: Issue
    form: ParsedForm
    rules: Rules
    actor: str
    standing: Standing
    at: dt.datetime  # when the comment was written: effects are dated by the comment
    comment_id: int
    ledger: FundingLedger | None = None
    assignable: Mapping[str, bool] = dataclasses.field(default_factory=dict)

    @property
    def roles(self) -> frozenset[Role]:
        return self.standing.roles


@dataclass(frozen=True)
class CommandResult:
    record: Record
    ok: bool
    message: str = ""  # reply text; a refusal always has one
    actions: tuple[Action, ...] = ()
    recheck: bool = False  # run the eligibility checks again after this comment


def _refuse(ctx: CommandContext, message: str) -> CommandResult:
    return CommandResult(record=ctx.record, ok=False, message=message)


def _done(ctx: CommandContext, record: Record | None = None, message: str = "", **kw: object) -> CommandResult:
    return CommandResult(record=record or ctx.record, ok=True, message=message, **kw)  # type: ignore[arg-type]


# --- the registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    summary: str
    roles: frozenset[Role]
    run: Callable[[CommandContext, str, str], CommandResult]  # (context, args, rest)
    open_after_outcome: bool = False  # may be used once the review has ended
    conflicted_ok: bool = False  # also for a reviewer held back by a conflict (/recuse, /away, /back)


REGISTRY: dict[str, CommandSpec] = {}


def command(name: str, usage: str, summary: str, *roles: Role, open_after_outcome: bool = False,
            conflicted_ok: bool = False):
    """Register a handler with its usage, help text and who may use it."""

    def register(fn: Callable[[CommandContext, str, str], CommandResult]) -> Callable[..., CommandResult]:
        REGISTRY[name] = CommandSpec(name, usage, summary, frozenset(roles), fn, open_after_outcome, conflicted_ok)
        return fn

    return register


def permitted(spec: CommandSpec, standing: Standing) -> bool:
    return Role.ANYONE in spec.roles or bool(spec.roles & standing.roles) or \
        (spec.conflicted_ok and Role.REVIEWER in spec.roles and standing.would_review)


def conflict_reasons(ctx: CommandContext) -> str:
    """Why the actor may not review this application, in words (with their recusal's reason)."""
    reasons = []
    for conflict in ctx.standing.conflicts:
        recusal = ctx.record.recused(ctx.actor) if conflict is Conflict.RECUSED else None
        reasons.append(conflict.value + (f" ({escape_inline(recusal.reason, 200)})" if recusal and recusal.reason
                                         else ""))
    return "; ".join(reasons)


def run_command(ctx: CommandContext, parsed: ParsedCommand) -> CommandResult:
    """Check the command exists, that the actor may use it and that the review allows it; run it.

    Who may give a command is checked before anything else about it, so a stranger's command
    never costs a lookup (SPEC §11)."""
    spec = REGISTRY.get(parsed.name)
    if spec is None:
        return _refuse(ctx, f"`/{escape_inline(parsed.name, 40)}` is not a command I know. Say `/help` for the list.")
    if not permitted(spec, ctx.standing):
        if Role.REVIEWER in spec.roles and ctx.standing.would_review:
            refused = _refuse(ctx, f"`/{spec.name}`: you are a reviewer, but not of this application: you are "
                                   f"{conflict_reasons(ctx)}.")
            first = ctx.standing.conflicts[0]
            if first is Conflict.RECUSED:
                return refused
            return dataclasses.replace(refused, record=ctx.record.with_conflict(ctx.actor, first.value, ctx.at))
        who = " or ".join(sorted(r.value + "s" for r in spec.roles))
        return _refuse(ctx, f"`/{spec.name}` is for {who}, and you are not one here. Say `/help` for what you can use.")
    if ctx.record.outcome and not spec.open_after_outcome:
        return _refuse(ctx, f"`/{spec.name}`: the review has ended ({ctx.record.outcome.name}).")
    return spec.run(ctx, parsed.args, parsed.rest)


def help_text(roles: frozenset[Role]) -> str:
    """The commands someone with `roles` may use, generated from the registry."""
    lines = ["Commands you can use here (one per line, at the start of a line):", ""]
    for spec in REGISTRY.values():
        if Role.ANYONE in spec.roles or spec.roles & roles:
            lines.append(f"- `{spec.usage}`: {spec.summary}")
    return "\n".join(lines)


def _usage(name: str, problem: str) -> str:
    return f"`/{name}`: {problem}. Usage: `{REGISTRY[name].usage}`"


# --- the commands ------------------------------------------------------------------------------


@command("help", "/help", "list the commands you may use", Role.ANYONE, open_after_outcome=True)
def _help(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    return _done(ctx, message=help_text(ctx.roles))


@command("recheck", "/recheck", "run the eligibility checks again", Role.APPLICANT, Role.REVIEWER)
def _recheck(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    return _done(ctx, recheck=True)


@command("withdraw", "/withdraw", "withdraw the application (closes the issue)", Role.APPLICANT)
def _withdraw(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    return _finish(ctx, "withdrawn")


def _finish(ctx: CommandContext, outcome: str, amount: Decimal | None = None, reason: str | None = None,
            message: str = "") -> CommandResult:
    spec = ctx.rules.stages.outcomes[outcome]
    record = dataclasses.replace(
        ctx.record, outcome=Outcome(name=outcome, by=ctx.actor, at=ctx.at, amount=amount, reason=reason),
        needs_info=None,
    ).audited(ctx.at, ctx.actor, "outcome", outcome + (f" {amount}" if amount is not None else "")
              + (f": {reason}" if reason else ""))
    actions: tuple[Action, ...] = (CloseIssue("not_planned" if outcome != "funded" else "completed"),) \
        if spec.close_issue else ()
    return _done(ctx, record, message=message, actions=actions)


@command("advance", "/advance", "move the application on to the next stage", Role.REVIEWER)
def _advance(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    stages = ctx.rules.stages
    order = [s.name for s in stages.stages]
    current = stages.stage(ctx.record.stage)
    later = [n for n in (current.next if current else ()) if order.index(n) > order.index(current.name)]
    if current is None or not later:
        return _refuse(ctx, f"`/advance`: there is no stage after {ctx.record.stage or 'this one'}; "
                            "use `/approve <amount>` or `/decline <reason>`.")
    return _move(ctx, later[0], via="/advance")


@command("stage", "/stage <name>", "move the application to a named stage", Role.REVIEWER)
def _stage(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    target = args.strip().lower()
    names = [s.name for s in ctx.rules.stages.stages]
    if not target or target not in names:
        return _refuse(ctx, _usage("stage", f"name one of {', '.join(names)}"))
    if target == ctx.record.stage:
        return _refuse(ctx, f"`/stage {target}`: the application is already there.")
    current = ctx.rules.stages.stage(ctx.record.stage)
    if current is not None and target not in current.next:
        allowed = ", ".join(current.next) or "none"
        return _refuse(ctx, f"`/stage {target}`: from {current.name} the application may move to: {allowed}.")
    return _move(ctx, target, via="/stage")


def move_problem(record: Record, rules: Rules, target: str, via: str) -> str | None:
    """Why the application may not move to `target` now (None: it may). The same checks hold for
    a command and for a stage label put on by hand: screening passed, the stage's scores given."""
    stages = rules.stages
    order = [s.name for s in stages.stages]
    current = stages.stage(record.stage)
    forward = current is None or order.index(target) > order.index(current.name)
    if not forward or current is None:
        return None
    if rules.funding.dated and not record.round:
        return f"`{via}`: the application waits for the next funding round; its review starts when that opens."

    if current.name == stages.first.name and not record.eligible:
        return (f"`{via}`: the application has not passed screening (see the status comment); "
                "fix the findings, or `/waive <check> <reason>` a failed check.")
    missing = current.min_scores - len(record.scorers_in(current.name))
    if missing > 0:
        return (f"`{via}`: {current.name} needs scores from {current.min_scores} reviewers before it may "
                f"advance; {missing} more needed (`/score <criterion> <n>`).")
    return quorum_problem(record, current, via)


def quorum_problem(record: Record, stage: StageSpec, via: str) -> str | None:
    """Why the community vote does not let the application leave `stage` yet (SPEC §14), with the figures."""
    if not stage.community_vote:
        return None
    voters = record.votes_up + record.votes_down
    if voters < stage.min_voters:
        return (f"`{via}`: the community vote needs at least {stage.min_voters} voters; {voters} so far "
                f"(👍 {record.votes_up} · 👎 {record.votes_down}).")
    if stage.min_approval is not None:
        share = Decimal(record.votes_up) / voters if voters else Decimal(0)
        if share < stage.min_approval:
            return (f"`{via}`: the community vote needs {stage.min_approval:.0%} 👍; it has {share:.0%} "
                    f"(👍 {record.votes_up} · 👎 {record.votes_down}).")
    return None


def _move(ctx: CommandContext, target: str, via: str) -> CommandResult:
    problem = move_problem(ctx.record, ctx.rules, target, via)
    if problem:
        return _refuse(ctx, problem)
    return _done(ctx, ctx.record.moved_to(target, at=ctx.at, by=ctx.actor, via=via))


@command("score", "/score <criterion> <1-5>", "record your score for a criterion (a later one replaces it)",
         Role.REVIEWER)
def _score(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    stages = ctx.rules.stages
    parts = args.split()
    usage = _usage("score", f"name a criterion ({', '.join(stages.criteria)}) and a whole number from "
                            f"{stages.score_min} to {stages.score_max}").replace("1-5", f"{stages.score_min}-{stages.score_max}")
    if len(parts) != 2 or parts[0].lower() not in stages.criteria or not re.fullmatch(r"\d{1,3}", parts[1]):
        return _refuse(ctx, usage)
    value = int(parts[1])
    if not stages.score_min <= value <= stages.score_max:
        return _refuse(ctx, usage)
    score = Score(reviewer=ctx.actor, criterion=parts[0].lower(), value=value, stage=ctx.record.stage, at=ctx.at)
    record = ctx.record.with_score(score).audited(ctx.at, ctx.actor, "score", f"{score.criterion} {value}")
    return _done(ctx, record)


@command("needs-info", "/needs-info <question>", "ask the applicant for more information", Role.REVIEWER)
def _needs_info(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    if not args.strip():
        return _refuse(ctx, _usage("needs-info", "say what information is needed"))
    question = shorten(args.strip(), 2000)
    record = dataclasses.replace(ctx.record, needs_info=NeedsInfo(by=ctx.actor, at=ctx.at, text=question))
    applicants = " ".join(f"@{login}" for login in applicant_logins(ctx.issue, ctx.form))
    message = (f"{applicants}: a reviewer asks for more information:\n\n{escape_block(question)}\n\n"
               "Edit the application or answer in a comment; the `needs: info` label goes when you do.")
    return _done(ctx, record, message=message)


def assign_names(args: str) -> list[str] | None:
    """The logins `/assign` names (at most MAX_ASSIGNEES), or None when they are not logins."""
    logins = list(dict.fromkeys(token.lstrip("@") for token in args.split()))
    if not logins or len(logins) > MAX_ASSIGNEES:
        return None
    if not all(re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})", login) for login in logins):
        return None
    return logins


@command("assign", "/assign @user [@user ...]", f"assign reviewers to the application (at most {MAX_ASSIGNEES})",
         Role.REVIEWER)
def _assign(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    logins = assign_names(args)
    if logins is None:
        return _refuse(ctx, _usage("assign", f"name one to {MAX_ASSIGNEES} GitHub users"))
    refused = [login for login in logins if not ctx.assignable.get(login.lower(), False)]
    if refused:
        names = ", ".join(f"`{login}`" for login in refused)
        return _refuse(ctx, f"`/assign`: {names} cannot be assigned here (only people with access to this "
                            "repository can be assigned).")
    return _done(ctx, actions=(Assign(tuple(logins)),))


@command("approve", "/approve <amount>", "fund the application with the amount granted (decision stage)",
         Role.REVIEWER)
def _approve(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    funding = ctx.rules.funding
    stage = ctx.rules.stages.stage(ctx.record.stage)
    if stage is None or not stage.decides:
        deciding = ", ".join(s.name for s in ctx.rules.stages.stages if s.decides)
        return _refuse(ctx, f"`/approve` is only possible in the {deciding} stage; the application is in "
                            f"{ctx.record.stage or 'no stage'}.")
    try:
        amount = parse_amount(args)
    except AnswerError as err:
        return _refuse(ctx, _usage("approve", f"give the amount granted as a positive number ({escape_inline(str(err))})"))
    round_name = ctx.record.round
    if not round_name:
        return _refuse(ctx, "`/approve`: the application is not in a funding round yet; it waits for the next one.")
    cap = funding.cap(round_name)
    if amount > cap:
        return _refuse(ctx, f"`/approve {format_amount(amount, funding.currency)}` is over the per-project cap of "
                            f"{format_amount(cap, funding.currency)} ({ctx.rules.source_of('funding')}).")
    pool = funding.pool(round_name)
    if pool is not None and ctx.ledger is not None:
        committed = ctx.ledger.committed - ctx.ledger.grants.get(ctx.issue.number, Decimal(0))
        left = pool - committed
        if amount > left:
            return _refuse(ctx, f"`/approve {format_amount(amount, funding.currency)}` is more than is left in "
                                f"round {escape_inline(round_name, 40)}: {format_amount(left, funding.currency)} of "
                                f"{format_amount(pool, funding.currency)} "
                                f"({format_amount(committed, funding.currency)} already granted).")
    finished = _finish(ctx, "funded", amount=amount)
    return dataclasses.replace(finished, record=release_tranche(finished.record, ctx.rules, ctx.at, ctx.actor,
                                                                "approve"))


def release_tranche(record: Record, rules: Rules, at: dt.datetime, by: str, ref: str) -> Record:
    """The grant's next tranche released (none when all are): k of n, the last one what is left, so the
    parts add up to the grant exactly. A tranche is never released twice: k is the count released."""
    parts = rules.funding.tranches
    k = len(record.tranches) + 1
    if not record.funded or k > len(parts):
        return record
    granted = record.granted
    amount = granted - record.released if k == len(parts) else (granted * parts[k - 1] / 100).quantize(Decimal("0.01"))
    tranche = Tranche(k=k, n=len(parts), amount=amount, at=at, by=by, ref=ref)
    return dataclasses.replace(record, tranches=record.tranches + (tranche,)).audited(
        at, by, "tranche", f"{k} of {len(parts)}: {format(amount, 'f')} ({ref})")


@command("decline", "/decline <reason>", "decline the application, saying why (closes the issue)", Role.REVIEWER)
def _decline(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    if not args.strip():
        return _refuse(ctx, _usage("decline", "give the reason, which the applicant will read"))
    return _finish(ctx, "declined", reason=shorten(args.strip(), 2000))


@command("waive", "/waive <check> <reason>", "waive a failed eligibility check, saying why", Role.REVIEWER)
def _waive(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    parts = args.split(maxsplit=1)
    failed = [c.id for c in ctx.record.checks if not c.ok]
    if len(parts) != 2 or parts[0].lower() not in {c.id for c in ctx.record.checks}:
        known = ", ".join(c.id for c in ctx.record.checks) or "none yet"
        return _refuse(ctx, _usage("waive", f"name a check ({known}) and give the reason"))
    check = parts[0].lower()
    if check not in failed:
        return _refuse(ctx, f"`/waive {check}`: that check has not failed.")
    reason = shorten(parts[1].strip(), 500)
    waiver = Waiver(check=check, by=ctx.actor, reason=reason, at=ctx.at)
    waivers = tuple(w for w in ctx.record.waivers if w.check != check) + (waiver,)
    record = dataclasses.replace(ctx.record, waivers=waivers).audited(ctx.at, ctx.actor, "waive", f"{check}: {reason}")
    return _done(ctx, record)


@command("recuse", "/recuse [reason]", "take yourself off this application (your scores and vote stop counting)",
         Role.REVIEWER, open_after_outcome=True, conflicted_ok=True)
def _recuse(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    earlier = ctx.record.recused(ctx.actor)
    if earlier:
        return _refuse(ctx, f"`/recuse`: you recused yourself on {earlier.at.date().isoformat()} already.")
    reason = shorten(args.strip(), 500)
    record = dataclasses.replace(ctx.record, recusals=ctx.record.recusals + (Recusal(ctx.actor, reason, ctx.at),))
    return _done(ctx, record.audited(ctx.at, ctx.actor, "recuse", reason),
                 message="Recorded: you are off this application. Your scores and vote here no longer count, and "
                         "its review commands are not yours to give.")


@command("away", "/away until YYYY-MM-DD", "say you are away: nothing is assigned to you until that day",
         Role.REVIEWER, open_after_outcome=True, conflicted_ok=True)
def _away(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    match = re.fullmatch(r"(?:until\s+)?(\d{4}-\d{2}-\d{2})", args.strip(), re.IGNORECASE)
    try:
        until = dt.date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        until = None
    today = ctx.at.astimezone(dt.timezone.utc).date()
    if until is None or not today < until <= today + dt.timedelta(days=366):
        return _refuse(ctx, _usage("away", "give the day you are back, after today and within a year"))
    return _done(ctx, actions=(SetAway(ctx.actor, until),),
                 message=f"Noted: you are away until {until.isoformat()} (UTC); no application is assigned to you "
                         "before then. Say `/back` if you return sooner.")


@command("back", "/back", "say you are back (applications may be assigned to you again)",
         Role.REVIEWER, open_after_outcome=True, conflicted_ok=True)
def _back(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    return _done(ctx, actions=(SetAway(ctx.actor, None),), message="Welcome back: applications may be assigned to you again.")


def _pending_report(record: Record) -> ReportEntry | None:
    """The oldest progress report no reviewer has accepted or rejected yet."""
    return next((r for r in record.reports if not r.review), None)


def _reviewed(record: Record, report: ReportEntry, verdict: str, by: str, at: dt.datetime, reason: str = "") -> Record:
    reports = tuple(dataclasses.replace(r, review=verdict, reviewed_by=by, reviewed_at=at, reason=reason)
                    if r is report else r for r in record.reports)
    return dataclasses.replace(record, reports=reports).audited(at, by, "review-report",
                                                                f"{verdict} {report.ref}" + (f": {reason}" if reason else ""))


@command("accept-report", "/accept-report", "accept the progress report (releases the grant's next part)",
         Role.REVIEWER, open_after_outcome=True)
def _accept_report(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    report = _pending_report(ctx.record) if ctx.record.funded else None
    if report is None:
        return _refuse(ctx, "`/accept-report`: no progress report waits for review here.")
    record = _reviewed(ctx.record, report, "accepted", ctx.actor, ctx.at)
    released = release_tranche(record, ctx.rules, ctx.at, ctx.actor, report.ref)
    currency = ctx.rules.funding.currency
    if released is record:
        return _done(ctx, record, message="Report accepted. Every part of the grant has been released already.")
    tranche = released.tranches[-1]
    return _done(ctx, released, message=f"Report accepted: part {tranche.k} of {tranche.n} of the grant, "
                                        f"{format_amount(tranche.amount, currency)}, is released for payment.")


@command("reject-report", "/reject-report <reason>", "send the progress report back, saying why (another is asked for)",
         Role.REVIEWER, open_after_outcome=True)
def _reject_report(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    if not args.strip():
        return _refuse(ctx, _usage("reject-report", "give the reason, which the maintainers will read"))
    report = _pending_report(ctx.record) if ctx.record.funded else None
    if report is None:
        return _refuse(ctx, "`/reject-report`: no progress report waits for review here.")
    reason = shorten(args.strip(), 2000)
    record = _reviewed(ctx.record, report, "rejected", ctx.actor, ctx.at, reason)
    maintainers = " ".join(f"@{login}" for login in applicant_logins(ctx.issue, ctx.form))
    return _done(ctx, record, message=f"The progress report of {report.at.date().isoformat()} was not accepted:\n\n"
                                      f"{escape_block(reason)}\n\n{maintainers} please send another: comment "
                                      "`/report` followed by the report, or open a progress-report issue.")


@command("report", "/report <progress report text>", "submit a progress report (the rest of the comment)",
         Role.MAINTAINER, open_after_outcome=True)
def _report(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    if not ctx.record.funded:
        return _refuse(ctx, "`/report`: progress reports start once the application is funded.")
    text = "\n".join(part for part in (args, rest) if part)
    needed = ctx.rules.reports.min_words
    if count_words(text) < needed:
        return _refuse(ctx, _usage("report", f"a progress report needs at least {needed} words (progress "
                                             "against milestones, use of funds, community feedback, outcomes)"))
    entry = ReportEntry(at=ctx.at, by=ctx.actor, ref=f"comment:{ctx.comment_id}")
    record = dataclasses.replace(ctx.record, reports=ctx.record.reports + (entry,))
    return _done(ctx, record.audited(ctx.at, ctx.actor, "report", entry.ref))
