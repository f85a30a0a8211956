"""The evidence pack in an application's life (issue 21): when one is wanted, what a pack read changes in the
record, who waits for one, and the thresholds the rules put on its figures. Pure.

A pack is read after the status comment is posted (`bot.jobs.evidence`): the first run of an application
only notes that one is wanted (`evidence_due`), and the pack comes back through the pipeline under the
application's lock with an `EVIDENCE` trigger (`take_pack`), so it never races a delivery. A progress report
and `/evidence` ask for the pack to be read again (`Ask`); the pack that answers them is replied with its
change since the application. Thresholds that are eligibility checks wait for the pack (`pending`), and a
figure it could not read fails the check with a clear line — to be waived like any other, or read again.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from bot.policy.command_context import CommandContext, CommandResult, done, refuse
from bot.policy.evidence import THRESHOLDS, measure, passes
from bot.policy.evidence_pack import Ask, Evidence, Pack
from bot.policy.evidence_view import reply_text
from bot.policy.i18n import Translator
from bot.policy.markers import NoticeKey
from bot.policy.models import Action, PostComment
from bot.policy.record import PENDING_FIGURE, CheckResult, Note, Record
from bot.policy.rules import EvidenceRules, Rules

FRESH_FOR = dt.timedelta(minutes=10)  # a pack younger than this answers a new ask without reading again
EVIDENCE_CHECKS = frozenset(check for check, _, _ in THRESHOLDS.values())


def current_pack(record: Record) -> Pack | None:
    """The newest pack, when it is about the repository the application now names."""
    latest = record.evidence.latest if record.evidence else None
    return latest if latest is not None and record.repository and latest.about(record.repository) else None


def evidence_due(record: Record, rules: Rules) -> bool:
    """A pack should be read for this application: none yet for the repository it names (a new application,
    a changed repository, a lost job), or someone asked for one. Not for a review that ended without a grant."""
    if not rules.evidence.enabled or not record.repository or not record.checks:
        return False
    if record.outcome is not None and not record.funded:
        return False
    return current_pack(record) is None or bool(record.evidence and record.evidence.asks)


def reusable(record: Record, now: dt.datetime) -> Pack | None:
    """The record's own pack, young enough to answer the asks without reading again."""
    pack = current_pack(record)
    return pack if pack is not None and now - pack.at < FRESH_FOR else None


def asked(record: Record, kind: str, ref: str, at: dt.datetime, by: str, rules: Rules) -> Record:
    """Someone wants the pack read again (a report, `/evidence`, `/recheck`), once per ref."""
    if not rules.evidence.enabled:
        return record
    evidence = record.evidence or Evidence()
    if any(a.kind == kind and a.ref == ref for a in evidence.asks):
        return record
    return dataclasses.replace(record, evidence=dataclasses.replace(evidence, asks=evidence.asks + (Ask(kind, ref, at, by),)))


def ask_for_reports(before: Record | None, record: Record, rules: Rules) -> Record:
    """A progress report recorded in this run asks for the pack: reviewers see the change before `/accept-report`."""
    known = {r.ref for r in before.reports} if before else set()
    for report in record.reports:
        if report.ref not in known:
            record = asked(record, "report", report.ref, report.at, report.by, rules)
    return record


def take_pack(record: Record, pack: Pack, rules: Rules, posted: set[str], tr: Translator
              ) -> tuple[Record, list[Action]]:
    """A pack read for this application: kept (the first for its repository, and as the latest), the
    waiting asks answered with the change since the application, the evidence checks decided. A pack
    about another repository than the one the application now names (it was edited meanwhile) is ignored."""
    if not record.repository or not pack.about(record.repository):
        return record, []
    evidence = record.evidence or Evidence()
    first = evidence.first if evidence.first is not None and evidence.first.about(record.repository) else pack
    actions: list[Action] = []
    for ask in evidence.asks:
        key = NoticeKey.evidence(ask.kind, ask.ref)
        if ask.kind != "recheck" and key not in posted:
            actions.append(PostComment(key=key, body=reply_text(ask, first, pack, rules, tr)))
    record = dataclasses.replace(record, evidence=Evidence(first, pack, ()))
    return with_evidence_checks(record, rules), actions


# --- thresholds ---------------------------------------------------------------------------------------


def evidence_checks(pack: Pack | None, rules: EvidenceRules) -> tuple[CheckResult, ...]:
    """The thresholds that are eligibility checks, decided on `pack` (None: not read yet — pending)."""
    results = []
    for threshold in rules.checks:
        check = THRESHOLDS[threshold.key][0]
        params = {"key": threshold.key, "limit": str(threshold.value)}
        if pack is None:
            results.append(CheckResult(check, False, Note(PENDING_FIGURE, params)))
            continue
        value = measure(pack, threshold.key)
        if value is None:
            results.append(CheckResult(check, False, Note("evidence.unmeasured", params),
                                       Note("evidence.unmeasured.fix", {"check": check})))
            continue
        figure = Note("evidence.figure", {**params, "value": str(value)})
        if passes(threshold.key, value, threshold.value):
            results.append(CheckResult(check, True, figure))
        else:
            results.append(CheckResult(check, False, figure, Note("evidence.limit.fix", params)))
    return tuple(results)


def with_evidence_checks(record: Record, rules: Rules) -> Record:
    """The record's evidence checks decided again on its current pack (when the repository's own checks
    ran: a repository that could not be read has nothing to measure)."""
    if not rules.evidence.checks or not any(c.id == "repository" and c.ok for c in record.checks):
        return record
    kept = tuple(c for c in record.checks if c.id not in EVIDENCE_CHECKS)
    return dataclasses.replace(record, checks=kept + evidence_checks(current_pack(record), rules.evidence))


# --- `/evidence` -----------------------------------------------------------------------------------------


def on_evidence(ctx: CommandContext, args: str, rest: str) -> CommandResult:
    """Read the evidence again; the answer (the change since the application) follows as a reply."""
    if not ctx.rules.evidence.enabled:
        return refuse(ctx, ctx.tr.gettext("`/evidence`: this fund reads no evidence (`evidence.enabled` is off in "
                                          "its rules)."))
    if not ctx.record.repository:
        return refuse(ctx, ctx.tr.gettext("`/evidence`: the application names no repository yet."))
    return done(ctx, asked(ctx.record, "command", str(ctx.comment_id), ctx.at, ctx.actor, ctx.rules))


__all__ = ["EVIDENCE_CHECKS", "FRESH_FOR", "ask_for_reports", "asked", "current_pack",
           "evidence_checks", "evidence_due", "on_evidence", "reusable", "take_pack", "with_evidence_checks"]
