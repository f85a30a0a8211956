"""What a slash command's handler is given and gives back, and how it answers (SPEC §5). Pure.

A handler takes a `CommandContext` (the record, the issue, the form, the rules, who asks and with what
standing, in which language) and returns a `CommandResult` (the new record, whether it was carried
out, the reply, any actions). A refused command always says why; bad arguments are answered with the
command's usage.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.policy.parsed_form import ParsedForm
from bot.policy.i18n import Translator
from bot.policy.ledger import FundingLedger
from bot.policy.models import Action, Issue
from bot.policy.record import Record
from bot.policy.roles import Role, Standing
from bot.policy.rules import Rules


@dataclass(frozen=True)
class CommandSpec:
    """A command as the registry knows it (`bot.policy.commands.REGISTRY`): its syntax and help text,
    who may give it, and its handler."""

    name: str
    usage: str  # the command's syntax; the words in <> are translated (a catalogue message)
    summary: str  # what it does (a catalogue message, which may name a figure of HELP_FIGURES)
    roles: frozenset[Role]
    run: Callable[["CommandContext", str, str], "CommandResult"]  # (context, args, rest)
    open_after_outcome: bool = False  # may be used once the review has ended
    conflicted_ok: bool = False  # also for a reviewer held back by a conflict (/recuse, /away, /back)


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
    spec: CommandSpec | None = None  # the command being run (its usage answers bad arguments)

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


def refuse(ctx: CommandContext, message: str) -> CommandResult:
    return CommandResult(record=ctx.record, ok=False, message=message)


def done(ctx: CommandContext, record: Record | None = None, message: str = "", **kw: object) -> CommandResult:
    return CommandResult(record=record or ctx.record, ok=True, message=message, **kw)  # type: ignore[arg-type]


def usage_of(ctx: CommandContext, problem: str) -> str:
    """A refusal for bad arguments: what is wrong (`problem`, already in words) and the usage."""
    assert ctx.spec is not None
    return ctx.tr.gettext("`/%(command)s`: %(problem)s. Usage: `%(usage)s`", command=ctx.spec.name, problem=problem,
                          usage=ctx.tr.gettext(ctx.spec.usage))
