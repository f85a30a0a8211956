"""Slash commands (SPEC §5): the parser and the registry of commands.

Each command registers its usage, help text, who may use it and its handler in one place, so
`/help` is generated from the registry and can never drift from what the bot does. Handlers are
pure: they take a `CommandContext` and return a `CommandResult` (the new record, the reply text,
and any actions). A refused command always says why. Commands are the same words in every
language; what the bot answers is in the application's (`ctx.tr`, SPEC §15).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from bot.policy.eligibility import count_words
from bot.policy.answers import AnswerError, parse_amount
from bot.policy.parsed_form import ParsedForm
from bot.policy.i18n import N_, Translator
from bot.policy.models import Action, Assign, CloseIssue, Issue, SetAway
from bot.policy.record import NeedsInfo, Outcome, Record, Recusal, ReportEntry, Score, Tranche, Waiver
from bot.policy.roles import Conflict, Role, Standing, applicant_logins
from bot.policy.rules import Rules, StageSpec
from bot.policy.text import escape_block, escape_inline, shorten
from bot.policy.wording import answer_error

# --- parsing --------------------------------------------------------------------------------

# A command is `/name` at the start of a line (up to three spaces: four make a code block),
# followed by whitespace or the end of the line, so `/usr/bin` is not a command.
# (The arguments are taken greedily and stripped after: a lazy match before `[ \t]*$` is quadratic
# on a long line of spaces.)
_COMMAND_RE = re.compile(r"^ {0,3}/([A-Za-z][A-Za-z0-9-]*)(?:[ \t]+(.*))?$")
# A fence may open inside a list item (`- ```` or `1. ~~~`), its lines indented to the item: GitHub
# renders them as code too. Any indent counts, so a fence in a nested item is one as well.
_FENCE_RE = re.compile(r"^[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*(`{3,}|~{3,})")
_HTML_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# GitHub renders <pre> blocks (and <code> spans) as code: what they hold is shown, never obeyed.
_PRE_RE = re.compile(r"<(pre|code)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.DOTALL | re.IGNORECASE)
MAX_COMMANDS = 10  # carried out per comment; the rest are answered in one line (SPEC §11)
MAX_ASSIGNEES = 10  # GitHub's own limit for one issue
# The figures a command's help text may name (`%(max_assignees)s`).
HELP_FIGURES = {"max_assignees": MAX_ASSIGNEES, "max_commands": MAX_COMMANDS}
# Who may give a command, in words (`/help`, refusals).
ROLE_WORDS = {Role.ANYONE: N_("anyone"), Role.APPLICANT: N_("applicants"), Role.REVIEWER: N_("reviewers"),
              Role.MAINTAINER: N_("funded maintainers")}


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
    """Money granted in the current round: what `/approve` checks against the pool. The App writes it
    (the fund-state issue) when it makes a grant, so a rebuild also reads there what was granted then."""

    committed: Decimal
    grants: Mapping[int, Decimal]  # issue number -> amount
    plans: Mapping[int, tuple[Decimal, ...]] = dataclasses.field(default_factory=dict)  # number -> tranche plan
    verified: bool = True  # False: the fund-state issue failed its seal; the sweep rebuilds it


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
    tr: Translator  # the application's language: every reply is in it
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
    usage: str  # the command's syntax; the words in <> are translated (a catalogue message)
    summary: str  # what it does (a catalogue message, which may name a figure of HELP_FIGURES)
    roles: frozenset[Role]
    run: Callable[[CommandContext, str, str], CommandResult]  # (context, args, rest)
    open_after_outcome: bool = False  # may be used once the review has ended
    conflicted_ok: bool = False  # also for a reviewer held back by a conflict (/recuse, /away, /back)


REGISTRY: dict[str, CommandSpec] = {}


def command(name: str, usage: str, summary: str, *roles: Role, open_after_outcome: bool = False,
            conflicted_ok: bool = False):
    """Register a handler with its usage, help text and who may use it (usage and summary marked `N_`:
    they are catalogue messages, translated where shown)."""

    def register(fn: Callable[[CommandContext, str, str], CommandResult]) -> Callable[..., CommandResult]:
        REGISTRY[name] = CommandSpec(name, usage, summary, frozenset(roles), fn, open_after_outcome, conflicted_ok)
        return fn

    return register


def permitted(spec: CommandSpec, standing: Standing) -> bool:
    return Role.ANYONE in spec.roles or bool(spec.roles & standing.roles) or \
        (spec.conflicted_ok and Role.REVIEWER in spec.roles and standing.would_review)


def run_command(ctx: CommandContext, parsed: ParsedCommand) -> CommandResult:
    """Check the command exists, that the actor may use it and that the review allows it; run it.

    Who may give a command is checked before anything else about it, so a stranger's command
    never costs a lookup (SPEC §11)."""
    tr = ctx.tr
    spec = REGISTRY.get(parsed.name)
    if spec is None:
        return _refuse(ctx, tr.gettext("`/%(command)s` is not a command I know. Say `/help` for the list.",
                                       command=escape_inline(parsed.name, 40)))
    if not permitted(spec, ctx.standing):
        if Role.REVIEWER in spec.roles and ctx.standing.would_review:
            refused = _refuse(ctx, tr.gettext("`/%(command)s`: you are a reviewer, but not of this application: you "
                                              "are %(why)s.", command=spec.name, why=conflict_reasons(ctx)))
            first = ctx.standing.conflicts[0]
            if first is Conflict.RECUSED:
                return refused
            # A conflict the bot found is noted once, and listed in the status comment.
            return dataclasses.replace(refused, record=ctx.record.with_conflict(ctx.actor, first.value, ctx.at))
        who = tr.join((tr.gettext(ROLE_WORDS[r]) for r in sorted(spec.roles, key=lambda r: r.value)), "or")
        return _refuse(ctx, tr.gettext("`/%(command)s` is for %(who)s, and you are not one here. Say `/help` for what "
                                       "you can use.", command=spec.name, who=who))
    if ctx.record.outcome and not spec.open_after_outcome:
        return _refuse(ctx, tr.gettext("`/%(command)s`: the review has ended (%(outcome)s).", command=spec.name,
                                       outcome=ctx.record.outcome.name))
    return spec.run(ctx, parsed.args, parsed.rest)


def conflicts_in_words(conflicts: Iterable[Conflict], tr: Translator) -> str:
    """Why someone does not review this application, in words."""
    return tr.join(tr.gettext(c.value) for c in conflicts)


def conflict_reasons(ctx: CommandContext) -> str:
    """Why the actor may not review this application, in words, with their recusal's own reason."""
    tr = ctx.tr
    reasons = []
    for conflict in ctx.standing.conflicts:
        recusal = ctx.record.recused(ctx.actor) if conflict is Conflict.RECUSED else None
        words = tr.gettext(conflict.value)
        reasons.append(tr.gettext("%(conflict)s (%(reason)s)", conflict=words, reason=escape_inline(recusal.reason, 200))
                       if recusal and recusal.reason else words)
    return tr.join(reasons)


def help_text(roles: frozenset[Role], tr: Translator) -> str:
    """The commands someone with `roles` may use, generated from the registry, in `tr`'s language."""
    lines = [tr.gettext("Commands you can use here (one per line, at the start of a line):"), ""]
    for spec in REGISTRY.values():
        if Role.ANYONE in spec.roles or spec.roles & roles:
            lines.append("- " + tr.gettext("`%(usage)s`: %(summary)s", usage=tr.gettext(spec.usage),
                                           summary=tr.gettext(spec.summary, **HELP_FIGURES)))
    return "\n".join(lines)


def _usage(ctx: CommandContext, name: str, problem: str) -> str:
    """A refusal for bad arguments: what is wrong (`problem`, already in words) and the usage."""
    return ctx.tr.gettext("`/%(command)s`: %(problem)s. Usage: `%(usage)s`", command=name, problem=problem,
                          usage=ctx.tr.gettext(REGISTRY[name].usage))


# --- the commands ------------------------------------------------------------------------------


# Translators: the usages (`/help`, `/stage <name>` …) keep the command word; translate the words in <>.
@command("help", N_("/help"), N_("list the commands you may use"), Role.ANYONE, open_after_outcome=True)
def _help(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    return _done(ctx, message=help_text(ctx.roles, ctx.tr))


@command("recheck", N_("/recheck"), N_("run the eligibility checks again"), Role.APPLICANT, Role.REVIEWER)
def _recheck(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    return _done(ctx, recheck=True)


@command("withdraw", N_("/withdraw"), N_("withdraw the application (closes the issue)"), Role.APPLICANT)
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


@command("advance", N_("/advance"), N_("move the application on to the next stage"), Role.REVIEWER)
def _advance(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    stages = ctx.rules.stages
    order = [s.name for s in stages.stages]
    current = stages.stage(ctx.record.stage)
    later = [n for n in (current.next if current else ()) if order.index(n) > order.index(current.name)]
    if current is None or not later:
        return _refuse(ctx, ctx.tr.gettext("`/advance`: there is no stage after %(stage)s; use `/approve <amount>` or "
                                           "`/decline <reason>`.", stage=ctx.record.stage or "—"))
    return _move(ctx, later[0], via="/advance")


@command("stage", N_("/stage <name>"), N_("move the application to a named stage"), Role.REVIEWER)
def _stage(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    target = args.strip().lower()
    names = [s.name for s in ctx.rules.stages.stages]
    if not target or target not in names:
        return _refuse(ctx, _usage(ctx, "stage", tr.gettext("name one of %(stages)s", stages=tr.join(names, "or"))))
    if target == ctx.record.stage:
        return _refuse(ctx, tr.gettext("`/stage %(stage)s`: the application is already there.", stage=target))
    current = ctx.rules.stages.stage(ctx.record.stage)
    if current is not None and target not in current.next:
        allowed = tr.join(current.next, "or") or "—"
        return _refuse(ctx, tr.gettext("`/stage %(stage)s`: from %(current)s the application may move to: "
                                       "%(allowed)s.", stage=target, current=current.name, allowed=allowed))
    return _move(ctx, target, via="/stage")


def move_problem(record: Record, rules: Rules, target: str, via: str, tr: Translator) -> str | None:
    """Why the application may not move to `target` now (None: it may), in `tr`'s language. The same
    checks hold for a command and for a stage label put on by hand: screening passed, the stage's
    scores given."""
    stages = rules.stages
    order = [s.name for s in stages.stages]
    current = stages.stage(record.stage)
    forward = current is None or order.index(target) > order.index(current.name)
    if not forward or current is None:
        return None
    if rules.funding.dated and not record.round:
        return tr.gettext("`%(via)s`: the application waits for the next funding round; its review starts when "
                          "that opens.", via=via)
    if current.name == stages.first.name and not record.eligible:
        return tr.gettext("`%(via)s`: the application has not passed screening (see the status comment); fix the "
                          "findings, or `/waive <check> <reason>` a failed check.", via=via)
    missing = current.min_scores - len(record.scorers_in(current.name))
    if missing > 0:
        return tr.ngettext("`%(via)s`: %(stage)s needs scores from %(needed)s reviewers before it may advance; "
                           "%(n)s more needed (`/score <criterion> <n>`).",
                           "`%(via)s`: %(stage)s needs scores from %(needed)s reviewers before it may advance; "
                           "%(n)s more needed (`/score <criterion> <n>`).", missing, via=via, stage=current.name,
                           needed=tr.number(current.min_scores))
    return quorum_problem(record, current, via, tr)


def quorum_problem(record: Record, stage: StageSpec, via: str, tr: Translator) -> str | None:
    """Why the community vote does not let the application leave `stage` yet (SPEC §14), with the figures."""
    if not stage.community_vote:
        return None
    voters = record.votes_up + record.votes_down
    if voters < stage.min_voters:
        return tr.gettext("`%(via)s`: the community vote needs at least %(needed)s voters; %(voters)s so far "
                          "(👍 %(up)s · 👎 %(down)s).", via=via, needed=tr.number(stage.min_voters),
                          voters=tr.number(voters), up=tr.number(record.votes_up), down=tr.number(record.votes_down))
    if stage.min_approval is not None:
        share = Decimal(record.votes_up) / voters if voters else Decimal(0)
        if share < stage.min_approval:
            return tr.gettext("`%(via)s`: the community vote needs %(needed)s 👍; it has %(share)s "
                              "(👍 %(up)s · 👎 %(down)s).", via=via, needed=tr.number(stage.min_approval, "0%"),
                              share=tr.number(share, "0%"), up=tr.number(record.votes_up),
                              down=tr.number(record.votes_down))
    return None


def _move(ctx: CommandContext, target: str, via: str) -> CommandResult:
    problem = move_problem(ctx.record, ctx.rules, target, via, ctx.tr)
    if problem:
        return _refuse(ctx, problem)
    return _done(ctx, ctx.record.moved_to(target, at=ctx.at, by=ctx.actor, via=via))


@command("score", N_("/score <criterion> <1-5>"), N_("record your score for a criterion (a later one replaces it)"),
         Role.REVIEWER)
def _score(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    stages, tr = ctx.rules.stages, ctx.tr
    parts = args.split()
    usage = _usage(ctx, "score", tr.gettext("name a criterion (%(criteria)s) and a whole number from %(min)s to %(max)s",
                                            criteria=tr.join(stages.criteria, "or"), min=stages.score_min,
                                            max=stages.score_max)).replace("1-5", f"{stages.score_min}-{stages.score_max}")
    if len(parts) != 2 or parts[0].lower() not in stages.criteria or not re.fullmatch(r"\d{1,3}", parts[1]):
        return _refuse(ctx, usage)
    value = int(parts[1])
    if not stages.score_min <= value <= stages.score_max:
        return _refuse(ctx, usage)
    score = Score(reviewer=ctx.actor, criterion=parts[0].lower(), value=value, stage=ctx.record.stage, at=ctx.at)
    record = ctx.record.with_score(score).audited(ctx.at, ctx.actor, "score", f"{score.criterion} {value}")
    return _done(ctx, record)


@command("needs-info", N_("/needs-info <question>"), N_("ask the applicant for more information"), Role.REVIEWER)
def _needs_info(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    if not args.strip():
        return _refuse(ctx, _usage(ctx, "needs-info", tr.gettext("say what information is needed")))
    question = shorten(args.strip(), 2000)
    record = dataclasses.replace(ctx.record, needs_info=NeedsInfo(by=ctx.actor, at=ctx.at, text=question))
    applicants = " ".join(f"@{login}" for login in applicant_logins(ctx.issue, ctx.form))
    message = "\n\n".join((
        tr.gettext("%(applicants)s: a reviewer asks for more information:", applicants=applicants),
        escape_block(question),
        tr.gettext("Edit the application or answer in a comment; the `%(label)s` label goes when you do.",
                   label=ctx.rules.stages.labels.needs_info.name)))
    return _done(ctx, record, message=message)


def assign_names(args: str) -> list[str] | None:
    """The logins `/assign` names (at most MAX_ASSIGNEES), or None when they are not logins."""
    logins = list(dict.fromkeys(token.lstrip("@") for token in args.split()))
    if not logins or len(logins) > MAX_ASSIGNEES:
        return None
    if not all(re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})", login) for login in logins):
        return None
    return logins


@command("assign", N_("/assign @user [@user ...]"),
         N_("assign reviewers to the application (at most %(max_assignees)s)"), Role.REVIEWER)
def _assign(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    logins = assign_names(args)
    if logins is None:
        return _refuse(ctx, _usage(ctx, "assign", tr.gettext("name one to %(max)s GitHub users", max=MAX_ASSIGNEES)))
    refused = [login for login in logins if not ctx.assignable.get(login.lower(), False)]
    if refused:
        names = tr.join(f"`{login}`" for login in refused)
        return _refuse(ctx, tr.gettext("`/assign`: %(names)s cannot be assigned here (only people with access to "
                                       "this repository can be assigned).", names=names))
    return _done(ctx, actions=(Assign(tuple(logins)),))


@command("approve", N_("/approve <amount>"), N_("fund the application with the amount granted (decision stage)"),
         Role.REVIEWER)
def _approve(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    funding, tr = ctx.rules.funding, ctx.tr
    stage = ctx.rules.stages.stage(ctx.record.stage)
    if stage is None or not stage.decides:
        deciding = tr.join((s.name for s in ctx.rules.stages.stages if s.decides), "or")
        return _refuse(ctx, tr.gettext("`/approve` is only possible in the %(deciding)s stage; the application is in "
                                       "%(stage)s.", deciding=deciding, stage=ctx.record.stage or "—"))
    try:
        amount = parse_amount(args)
    except AnswerError as err:
        problem = tr.gettext("give the amount granted as a positive number (%(why)s)",
                             why=escape_inline(answer_error(err.code, err.params, tr)))
        return _refuse(ctx, _usage(ctx, "approve", problem))

    def money(value: Decimal) -> str:
        return tr.amount(value, funding.currency)

    round_name = ctx.record.round
    if not round_name:
        return _refuse(ctx, tr.gettext("`/approve`: the application is not in a funding round yet; it waits for the "
                                       "next one."))
    cap = funding.cap(round_name)
    if amount > cap:
        return _refuse(ctx, tr.gettext("`/approve %(amount)s` is over the per-project cap of %(cap)s (%(file)s).",
                                       amount=money(amount), cap=money(cap), file=ctx.rules.source_of("funding")))
    pool = funding.pool(round_name)
    if pool is not None and ctx.ledger is not None and not ctx.ledger.verified:
        # Edited by hand: what it says is granted cannot be checked against the pool.
        return _refuse(ctx, tr.gettext("`/approve`: the fund's ledger of grants (the fund-state issue) was changed "
                                       "by someone other than Fund Bot, so the pool cannot be checked. The next "
                                       "sweep rebuilds the ledger from the applications' records; approve again "
                                       "after it."))
    if pool is not None and ctx.ledger is not None:
        committed = ctx.ledger.committed - ctx.ledger.grants.get(ctx.issue.number, Decimal(0))
        left = pool - committed
        if amount > left:
            return _refuse(ctx, tr.gettext("`/approve %(amount)s` is more than is left in round %(round)s: %(left)s of "
                                           "%(pool)s (%(committed)s already granted).", amount=money(amount),
                                           round=escape_inline(round_name, 40), left=money(left), pool=money(pool),
                                           committed=money(committed)))
    return grant(ctx, amount, funding.tranches)


def grant(ctx: CommandContext, amount: Decimal, plan: tuple[Decimal, ...]) -> CommandResult:
    """The application funded with `amount`: its tranche plan pinned (later changes of the rules'
    `tranches` leave this grant alone) and the first part released."""
    finished = _finish(ctx, "funded", amount=amount)
    pinned = dataclasses.replace(finished.record, plan=tuple(plan))
    return dataclasses.replace(finished, record=release_tranche(pinned, ctx.rules, ctx.at, ctx.actor, "approve"))


def release_tranche(record: Record, rules: Rules, at: dt.datetime, by: str, ref: str) -> Record:
    """The grant's next tranche released (none when all are): k of n, the last one what is left, so the
    parts add up to the grant exactly. A tranche is never released twice: k is the count released.
    The parts are the plan pinned at `/approve` (the rules' only for a record from before plans were)."""
    parts = record.tranche_plan(rules.funding.tranches)
    k = len(record.tranches) + 1
    if not record.funded or k > len(parts):
        return record
    granted = record.granted
    amount = granted - record.released if k == len(parts) else (granted * parts[k - 1] / 100).quantize(Decimal("0.01"))
    tranche = Tranche(k=k, n=len(parts), amount=amount, at=at, by=by, ref=ref)
    return dataclasses.replace(record, tranches=record.tranches + (tranche,)).audited(
        at, by, "tranche", f"{k} of {len(parts)}: {format(amount, 'f')} ({ref})")


@command("decline", N_("/decline <reason>"), N_("decline the application, saying why (closes the issue)"),
         Role.REVIEWER)
def _decline(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    if not args.strip():
        return _refuse(ctx, _usage(ctx, "decline", ctx.tr.gettext("give the reason, which the applicant will read")))
    return _finish(ctx, "declined", reason=shorten(args.strip(), 2000))


@command("waive", N_("/waive <check> <reason>"), N_("waive a failed eligibility check, saying why"), Role.REVIEWER)
def _waive(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    parts = args.split(maxsplit=1)
    failed = [c.id for c in ctx.record.checks if not c.ok]
    if len(parts) != 2 or parts[0].lower() not in {c.id for c in ctx.record.checks}:
        known = tr.join((c.id for c in ctx.record.checks), "or") or tr.gettext("none yet")
        return _refuse(ctx, _usage(ctx, "waive", tr.gettext("name a check (%(checks)s) and give the reason",
                                                            checks=known)))
    check = parts[0].lower()
    if check not in failed:
        return _refuse(ctx, tr.gettext("`/waive %(check)s`: that check has not failed.", check=check))
    reason = shorten(parts[1].strip(), 500)
    waiver = Waiver(check=check, by=ctx.actor, reason=reason, at=ctx.at)
    waivers = tuple(w for w in ctx.record.waivers if w.check != check) + (waiver,)
    record = dataclasses.replace(ctx.record, waivers=waivers).audited(ctx.at, ctx.actor, "waive", f"{check}: {reason}")
    return _done(ctx, record)


@command("recuse", N_("/recuse [reason]"), N_("take yourself off this application (your scores and vote stop counting)"),
         Role.REVIEWER, open_after_outcome=True, conflicted_ok=True)
def _recuse(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    earlier = ctx.record.recused(ctx.actor)
    if earlier:
        return _refuse(ctx, tr.gettext("`/recuse`: you recused yourself on %(date)s already.",
                                       date=tr.date(earlier.at.astimezone(dt.timezone.utc).date())))
    reason = shorten(args.strip(), 500)
    record = dataclasses.replace(ctx.record, recusals=ctx.record.recusals + (Recusal(ctx.actor, reason, ctx.at),))
    return _done(ctx, record.audited(ctx.at, ctx.actor, "recuse", reason),
                 message=tr.gettext("Recorded: you are off this application. Your scores and vote here no longer "
                                    "count, and its review commands are not yours to give."))


@command("away", N_("/away until YYYY-MM-DD"), N_("say you are away: nothing is assigned to you until that day"),
         Role.REVIEWER, open_after_outcome=True, conflicted_ok=True)
def _away(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    match = re.fullmatch(r"(?:until\s+)?(\d{4}-\d{2}-\d{2})", args.strip(), re.IGNORECASE)
    try:
        until = dt.date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        until = None
    today = ctx.at.astimezone(dt.timezone.utc).date()
    if until is None or not today < until <= today + dt.timedelta(days=366):
        return _refuse(ctx, _usage(ctx, "away", tr.gettext("give the day you are back, after today and within a year")))
    return _done(ctx, actions=(SetAway(ctx.actor, until),),
                 message=tr.gettext("Noted: you are away until %(date)s (UTC); no application is assigned to you "
                                    "before then. Say `/back` if you return sooner.", date=tr.date(until)))


@command("back", N_("/back"), N_("say you are back (applications may be assigned to you again)"),
         Role.REVIEWER, open_after_outcome=True, conflicted_ok=True)
def _back(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    return _done(ctx, actions=(SetAway(ctx.actor, None),),
                 message=ctx.tr.gettext("Welcome back: applications may be assigned to you again."))


def _pending_report(record: Record) -> ReportEntry | None:
    """The oldest progress report no reviewer has accepted or rejected yet."""
    return next((r for r in record.reports if not r.review), None)


def _reviewed(record: Record, report: ReportEntry, verdict: str, by: str, at: dt.datetime, reason: str = "") -> Record:
    reports = tuple(dataclasses.replace(r, review=verdict, reviewed_by=by, reviewed_at=at, reason=reason)
                    if r is report else r for r in record.reports)
    return dataclasses.replace(record, reports=reports).audited(at, by, "review-report",
                                                                f"{verdict} {report.ref}" + (f": {reason}" if reason else ""))


@command("accept-report", N_("/accept-report"), N_("accept the progress report (releases the grant's next part)"),
         Role.REVIEWER, open_after_outcome=True)
def _accept_report(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    report = _pending_report(ctx.record) if ctx.record.funded else None
    if report is None:
        return _refuse(ctx, tr.gettext("`/accept-report`: no progress report waits for review here."))
    record = _reviewed(ctx.record, report, "accepted", ctx.actor, ctx.at)
    released = release_tranche(record, ctx.rules, ctx.at, ctx.actor, report.ref)
    if released is record:
        return _done(ctx, record, message=tr.gettext("Report accepted. Every part of the grant has been released "
                                                     "already."))
    tranche = released.tranches[-1]
    return _done(ctx, released, message=tr.gettext(
        "Report accepted: part %(k)s of %(n)s of the grant, %(amount)s, is released for payment.",
        k=tr.number(tranche.k), n=tr.number(tranche.n), amount=tr.amount(tranche.amount, ctx.rules.funding.currency)))


@command("reject-report", N_("/reject-report <reason>"),
         N_("send the progress report back, saying why (another is asked for)"), Role.REVIEWER, open_after_outcome=True)
def _reject_report(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    if not args.strip():
        return _refuse(ctx, _usage(ctx, "reject-report", tr.gettext("give the reason, which the maintainers will read")))
    report = _pending_report(ctx.record) if ctx.record.funded else None
    if report is None:
        return _refuse(ctx, tr.gettext("`/reject-report`: no progress report waits for review here."))
    reason = shorten(args.strip(), 2000)
    record = _reviewed(ctx.record, report, "rejected", ctx.actor, ctx.at, reason)
    maintainers = " ".join(f"@{login}" for login in applicant_logins(ctx.issue, ctx.form))
    message = "\n\n".join((
        tr.gettext("The progress report of %(date)s was not accepted:",
                   date=tr.date(report.at.astimezone(dt.timezone.utc).date())),
        escape_block(reason),
        tr.gettext("%(maintainers)s please send another: comment `/report` followed by the report, or open a "
                   "progress-report issue.", maintainers=maintainers)))
    return _done(ctx, record, message=message)


@command("report", N_("/report <progress report text>"), N_("submit a progress report (the rest of the comment)"),
         Role.MAINTAINER, open_after_outcome=True)
def _report(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    tr = ctx.tr
    if not ctx.record.funded:
        return _refuse(ctx, tr.gettext("`/report`: progress reports start once the application is funded."))
    text = "\n".join(part for part in (args, rest) if part)
    needed = ctx.rules.reports.min_words
    if count_words(text) < needed:
        return _refuse(ctx, _usage(ctx, "report", tr.ngettext(
            "a progress report needs at least %(n)s word (progress against milestones, use of funds, community "
            "feedback, outcomes)",
            "a progress report needs at least %(n)s words (progress against milestones, use of funds, community "
            "feedback, outcomes)", needed)))
    return received_report(ctx)


def received_report(ctx: CommandContext) -> CommandResult:
    """The comment recorded as a progress report (its checks passed, now or when the App accepted it)."""
    entry = ReportEntry(at=ctx.at, by=ctx.actor, ref=f"comment:{ctx.comment_id}")
    record = dataclasses.replace(ctx.record, reports=ctx.record.reports + (entry,))
    return _done(ctx, record.audited(ctx.at, ctx.actor, "report", entry.ref))
