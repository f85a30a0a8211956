"""The status comment (SPEC §6): one comment per application, rendered from the record.

The body is a pure function of the record (no "updated at" clock), so an unchanged record
renders byte for byte the same and the executor does not edit the comment. Every piece of user
text is escaped (`bot.policy.text`); people are named without notifying them. The body is bounded
(SPEC §11): long lists show their newest entries, and if the whole would still pass the budget the
oldest audit entries are trimmed from the hidden record (and counted), never the current state.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from statistics import mean

from bot.policy.commands import FundingLedger
from bot.policy.eligibility import CHECK_TITLES
from bot.policy.forms import FormTemplate
from bot.policy.markers import STATUS_MARKER, record_block, record_payload
from bot.policy.money import format_amount
from bot.policy.record import AuditEntry, Record
from bot.policy.reports import ReportState, report_status
from bot.policy.rules import Rules
from bot.policy.text import OUTPUT_LIMIT, escape_block, escape_inline
from bot.policy.wording import describe

OK, FAIL, WARN = "✅", "❌", "⚠️"
SHOW_HISTORY = 15  # stage moves shown (the newest); the audit export has them all
SHOW_REPORTS = 12
SHOW_SCORERS = 12  # reviewers named per criterion
STATUS_BUDGET = OUTPUT_LIMIT - 5_000  # room for the signature and any wording that grows


def person(login: str) -> str:
    """A login shown without mentioning (notifying) them."""
    return escape_inline("@" + login, 60)


def day(moment: dt.datetime | None) -> str:
    """The UTC calendar date of a moment: dates here are UTC, shown as such."""
    return moment.astimezone(dt.timezone.utc).date().isoformat() if moment else "—"


@dataclass(frozen=True)
class StatusContext:
    """What the status comment shows besides the record itself."""

    today: dt.date
    ledger: FundingLedger | None = None
    rebuilt: str = ""  # why the record was rebuilt from the comments ("" when it was not)
    sealer: Callable[[str], str] | None = None  # the record block's payload -> its seal (None: unsealed)


def render_status(record: Record, rules: Rules, context: StatusContext, template: FormTemplate | None = None,
                  signature: str | None = None) -> str:
    """The whole status comment: marker, visible sections, hidden record — within the budget."""
    template = template or rules.application_form
    visible = _visible(record, rules, context, template)

    def block(kept: Record) -> str:
        return record_block(kept, context.sealer(record_payload(kept)) if context.sealer else signature)

    body = f"{visible}\n\n{block(record)}\n"
    trimmed = record
    while len(body) > STATUS_BUDGET and len(trimmed.audit) > 1:
        # Only a very long life (hundreds of moves and scores) gets here: keep the newest half.
        keep = trimmed.audit[len(trimmed.audit) // 2:]
        note = AuditEntry(keep[0].at, "fund-bot", "trimmed", f"{len(trimmed.audit) - len(keep)} older entries")
        trimmed = dataclasses.replace(trimmed, audit=(note,) + keep)
        body = f"{visible}\n\n{block(trimmed)}\n"
    return body


def _visible(record: Record, rules: Rules, context: StatusContext, template: FormTemplate) -> str:
    parts = [STATUS_MARKER, "## Fund Bot status", _summary(record, rules, context.today)]
    if context.rebuilt:
        parts.append(f"{WARN} {context.rebuilt}")
    parts += [_form(record, template), _eligibility(record, template), _review(record, rules)]
    parts += [s for s in (_conflicts(record), _scores(record, rules), _votes(record, rules),
                          _decision(record, rules, context.ledger), _reports(record, rules, context.today),
                          _failures(record)) if s]
    parts.append("<sub>Fund Bot keeps this comment up to date. Say `/help` in a comment to see the commands "
                 "you can use.</sub>")
    return "\n\n".join(parts)


def _summary(record: Record, rules: Rules, today: dt.date) -> str:
    if record.outcome:
        label = rules.stages.outcomes[record.outcome.name].label.name
        head = f"**Outcome:** {record.outcome.name} (`{escape_inline(label)}`)"
    else:
        head = f"**Stage:** {record.stage or '—'}" + (f" since {day(record.stage_since)}" if record.stage_since else "")
    eligibility = f"{OK} eligible" if record.eligible else f"{FAIL} not eligible yet"
    if not record.checks:
        eligibility = "not checked yet"
    line = f"{head} · **Eligibility:** {eligibility}"
    if record.round and rules.funding.dated:
        line += f" · **Round:** {escape_inline(record.round, 40)}"
    elif rules.funding.dated and record.checks and not record.outcome:
        upcoming = rules.funding.next_round(today)
        line += (f" · **Round:** waiting for {escape_inline(upcoming.name, 40)}, which opens on "
                 f"{upcoming.opens.isoformat() if upcoming.opens else '—'}" if upcoming else
                 " · **Round:** waiting for the next round")
    if record.needs_info:
        line += f"\n\n{WARN} **More information needed** (asked by {person(record.needs_info.by)} on " \
                f"{day(record.needs_info.at)}):\n\n{escape_block(record.needs_info.text)}"
    return line


def _form(record: Record, template: FormTemplate) -> str:
    if not record.form_problems:
        return f"### Application form\n\n{OK} Complete."
    items = "\n".join(f"- {FAIL} {escape_inline(describe(p, template), limit=500)}" for p in record.form_problems)
    return f"### Application form\n\n{items}\n\nEdit the issue to fix these; the checks run again when you save."


def _eligibility(record: Record, template: FormTemplate) -> str:
    if not record.checks:
        return "### Eligibility\n\nNot checked yet."
    waived = {w.check: w for w in record.waivers}
    rows = ["| Check | Result | Figure |", "|---|---|---|"]
    notes: list[str] = []
    for check in record.checks:
        title = CHECK_TITLES.get(check.id, check.id)
        mark = OK if check.ok else (f"{WARN} waived" if check.id in waived else FAIL)
        rows.append(f"| {title} | {mark} | {escape_inline(describe(check.figure, template))} |")
        if not check.ok and check.id not in waived and check.detail:
            notes.append(f"- **{title}:** {escape_inline(describe(check.detail, template), limit=500)}")
        if check.warning:
            notes.append(f"- {WARN} {escape_inline(describe(check.warning, template), limit=500)}")
        if check.id in waived:
            w = waived[check.id]
            notes.append(f"- {WARN} **{title}** waived by {person(w.by)} on {day(w.at)}: {escape_inline(w.reason)}")
    checked = f"\n\n<sub>Checked {day(record.checked_at)} (UTC) on {escape_inline(record.repository)}.</sub>" \
        if record.checked_at and record.repository else ""
    return "### Eligibility\n\n" + "\n".join(rows) + ("\n\n" + "\n".join(notes) if notes else "") + checked


def _review(record: Record, rules: Rules) -> str:
    if not record.history:
        return "### Review\n\nNot started."
    rows = ["| Stage | Since | By |", "|---|---|---|"]
    shown = record.history[-SHOW_HISTORY:]
    if len(record.history) > len(shown):
        rows.append(f"| … {len(record.history) - len(shown)} earlier moves | | |")
    for entry in shown:
        rows.append(f"| {entry.stage} | {day(entry.at)} | {person(entry.by)} ({escape_inline(entry.via, 40)}) |")
    order = " → ".join(f"**{s.name}**" if s.name == record.stage and not record.outcome else s.name
                       for s in rules.stages.stages)
    return f"### Review\n\n{order}\n\n" + "\n".join(rows)


def _conflicts(record: Record) -> str:
    if not record.recusals and not record.conflicts and not record.affiliated:
        return ""
    lines = [f"- {person(r.reviewer)} recused on {day(r.at)}" + (f": {escape_inline(r.reason, 200)}" if r.reason else "")
             for r in record.recusals[-SHOW_SCORERS:]]
    found = {c.reviewer.lower(): c for c in record.conflicts}
    lines += [f"- {person(c.reviewer)}: {escape_inline(c.reason, 200)}" for c in list(found.values())[-SHOW_SCORERS:]]
    lines += [f"- {person(login)}: a public member of the applicant's organisation" for login in record.affiliated
              if login not in found][:SHOW_SCORERS]
    return ("### Conflicts of interest\n\nThese reviewers do not review this application; their scores and votes "
            "here do not count.\n\n" + "\n".join(lines))


def _scores(record: Record, rules: Rules) -> str:
    counted = [s for s in record.scores if record.counts(s.reviewer)]
    if not counted:
        return ""
    rows = ["| Criterion | Mean | Scores | Reviewers |", "|---|---|---|---|"]
    for criterion in rules.stages.criteria:
        given = sorted((s for s in counted if s.criterion == criterion), key=lambda s: s.reviewer.lower())
        if not given:
            rows.append(f"| {criterion} | — | 0 | |")
            continue
        who = ", ".join(f"{person(s.reviewer)} {s.value}" for s in given[:SHOW_SCORERS])
        if len(given) > SHOW_SCORERS:
            who += f" and {len(given) - SHOW_SCORERS} more"
        rows.append(f"| {criterion} | {mean(s.value for s in given):.1f} | {len(given)} | {who} |")
    return "### Scores\n\n" + "\n".join(rows)


def _votes(record: Record, rules: Rules) -> str:
    voting = any(s.community_vote and s.name == record.stage for s in rules.stages.stages)
    if not voting and not (record.votes_up or record.votes_down):
        return ""
    note = "React with 👍 or 👎 on the application to vote." if voting and not record.outcome else "Voting has closed."
    stage = rules.stages.stage(record.stage)
    needed = []
    if voting and stage and stage.min_voters:
        needed.append(f"at least {stage.min_voters} voters")
    if voting and stage and stage.min_approval is not None:
        needed.append(f"{stage.min_approval:.0%} 👍")
    quorum = f" To move on, the vote needs {' and '.join(needed)}." if needed and not record.outcome else ""
    return f"### Community vote\n\n👍 {record.votes_up} · 👎 {record.votes_down}\n\n<sub>{note}{quorum}</sub>"


def _decision(record: Record, rules: Rules, ledger: FundingLedger | None) -> str:
    funding = rules.funding
    outcome = record.outcome
    if outcome is None:
        stage = rules.stages.stage(record.stage)
        pool = funding.pool(record.round) if record.round else None
        if stage and stage.decides and pool is not None and ledger is not None:
            left = pool - ledger.committed
            return (f"### Decision\n\nPending. Round {escape_inline(record.round, 40)} has "
                    f"{format_amount(left, funding.currency)} left of {format_amount(pool, funding.currency)}; the cap "
                    f"per project is {format_amount(funding.cap(record.round), funding.currency)}.")
        return ""
    when = f"on {day(outcome.at)} by {person(outcome.by)}"
    if outcome.name == "funded":
        amount = format_amount(outcome.amount or Decimal(0), funding.currency)
        return f"### Decision\n\n{OK} **Funded: {amount}** {when}." + _tranches(record, rules)
    if outcome.name == "declined":
        return f"### Decision\n\n**Declined** {when}:\n\n{escape_block(outcome.reason or '')}"
    return f"### Decision\n\n**Withdrawn** by the applicant {when.removeprefix('on ')}."


def _tranches(record: Record, rules: Rules) -> str:
    """The grant's parts: each released one (amount, when, on whose word), then those still to come."""
    parts = rules.funding.tranches
    if len(parts) < 2 and len(record.tranches) < 2:
        return ""
    currency = rules.funding.currency
    rows = ["| Part | Amount | Released | On the word of |", "|---|---|---|---|"]
    for t in record.tranches:
        after = "the approval" if t.ref == "approve" else "an accepted report"
        rows.append(f"| {t.k} of {t.n} | {format_amount(t.amount, currency)} | {day(t.at)} | {person(t.by)} ({after}) |")
    for k in range(len(record.tranches) + 1, len(parts) + 1):
        rows.append(f"| {k} of {len(parts)} | {parts[k - 1]:g} % | when a progress report is accepted | |")
    return "\n\n" + "\n".join(rows)


def _reports(record: Record, rules: Rules, today: dt.date) -> str:
    status = report_status(record, rules.reports, today)
    if not record.reports and status.next_due is None:
        return ""
    expected = f" of {status.expected}" if status.expected else ""
    lines = [f"### Progress reports\n\nReceived: {status.received}{expected}."]
    shown = record.reports[-SHOW_REPORTS:]
    if len(record.reports) > len(shown):
        lines.append(f"- … {len(record.reports) - len(shown)} earlier reports")
    for entry in shown:
        kind, _, ref = entry.ref.partition(":")
        where = f"#{ref}" if kind == "issue" else "a comment"
        review = ""
        if entry.review:
            review = f": {entry.review} by {person(entry.reviewed_by)}" + \
                (f" ({escape_inline(entry.reason, 200)})" if entry.reason else "")
        lines.append(f"- {day(entry.at)} by {person(entry.by)} ({where}){review}")
    if status.next_due:
        flag = {ReportState.OVERDUE: f" {FAIL} overdue", ReportState.DUE: f" {WARN} due soon"}.get(status.state, "")
        lines.append(f"\nNext report due: **{status.next_due.isoformat()}** (UTC){flag}. Comment `/report` followed "
                     "by the report, or open a progress-report issue naming this application.")
    else:
        lines.append("\nAll reports received. Thank you!")
    return "\n".join(lines)


def _failures(record: Record) -> str:
    if not record.failures:
        return ""
    lines = [f"- {day(f.at)}: {escape_inline(f.what, 60)}: GitHub answered {f.status} "
             f"({escape_inline(f.message, 200)})" for f in record.failures]
    return ("### Could not be written\n\nGitHub refused these writes; the bot went on without them.\n\n"
            + "\n".join(lines))
