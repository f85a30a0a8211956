"""The status comment (SPEC §6): one comment per application, rendered from the record, in the
application's language (SPEC §15: every word from the catalogues, `bot.policy.i18n`).

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

from bot.policy.ledger import FundingLedger
from bot.policy.eligibility import CHECK_TITLES
from bot.policy.evidence_flow import current_pack, evidence_due
from bot.policy.evidence_view import evidence_section
from bot.policy.form_template import FormTemplate
from bot.policy.i18n import N_, Translator, translator
from bot.policy.markers import STATUS_MARKER, record_block
from bot.policy.record import AuditEntry, Record
from bot.policy.reports import ReportState, report_status
from bot.policy.rules import Rules
from bot.policy.shown import day, person
from bot.policy.status_governance import approval_lines, vote_lines
from bot.policy.text import OUTPUT_LIMIT, escape_block, escape_inline
from bot.policy.wording import describe

OK, FAIL, WARN, WAIT = "✅", "❌", "⚠️", "⏳"
SHOW_HISTORY = 15  # stage moves shown (the newest); the audit export has them all
SHOW_REPORTS = 12
SHOW_SCORERS = 12  # reviewers named per criterion
STATUS_BUDGET = OUTPUT_LIMIT - 5_000  # room for the signature and any wording that grows


@dataclass(frozen=True)
class StatusContext:
    """What the status comment shows besides the record itself."""

    today: dt.date
    ledger: FundingLedger | None = None
    language: str = ""  # the application's ("": the fund's)
    sealer: Callable[[str], str] | None = None  # the record block's payload -> its seal (None: unsealed)


def render_status(record: Record, rules: Rules, context: StatusContext, template: FormTemplate | None = None,
                  signature: str | None = None) -> str:
    """The whole status comment: marker, visible sections, hidden record — within the budget."""
    language = context.language or rules.language
    template = template or rules.application_form_in(language)
    visible = _visible(record, rules, context, template, translator(language))

    def block(kept: Record) -> str:
        return record_block(kept, signature, seal=context.sealer)

    body = f"{visible}\n\n{block(record)}\n"
    trimmed = record
    while len(body) > STATUS_BUDGET and len(trimmed.audit) > 1:
        # Only a very long life (hundreds of moves and scores) gets here: keep the newest half.
        keep = trimmed.audit[len(trimmed.audit) // 2:]
        note = AuditEntry(keep[0].at, "fund-bot", "trimmed", f"{len(trimmed.audit) - len(keep)} older entries")
        trimmed = dataclasses.replace(trimmed, audit=(note,) + keep)
        body = f"{visible}\n\n{block(trimmed)}\n"
    return body


def _visible(record: Record, rules: Rules, context: StatusContext, template: FormTemplate, tr: Translator) -> str:
    parts = [STATUS_MARKER, "## " + tr.gettext("Fund Bot status"), _summary(record, rules, context.today, tr)]
    rebuilt = _rebuilt(record, tr)
    if rebuilt:
        parts.append(f"{WARN} {rebuilt}")
    parts += [_form(record, template, tr), _eligibility(record, template, tr)]
    parts += [s for s in (_evidence(record, rules, tr),) if s]
    parts.append(_review(record, rules, tr))
    parts += [s for s in (_conflicts(record, tr), _scores(record, rules, tr), _votes(record, rules, tr),
                          _decision(record, rules, context.ledger, tr), _approvals(record, rules, tr),
                          _reports(record, rules, context.today, tr),
                          _failures(record, tr)) if s]
    parts.append("<sub>" + tr.gettext("Fund Bot keeps this comment up to date. Say `/help` in a comment to see the "
                                      "commands you can use.") + "</sub>")
    return "\n\n".join(parts)


def _evidence(record: Record, rules: Rules, tr: Translator) -> str:
    """The evidence pack (issue 21), collapsed: being read, or the latest with the change since the application."""
    latest = current_pack(record)
    first = record.evidence.first if record.evidence and latest else None
    return evidence_section(first, latest, evidence_due(record, rules), rules, tr)


def _section(title: str, *blocks: str) -> str:
    return "\n\n".join((f"### {title}", *(b for b in blocks if b)))


def _rebuilt(record: Record, tr: Translator) -> str:
    """Said for as long as the record shows it: the bot did not trust the record it found, and why."""
    last = next((a for a in reversed(record.audit) if a.what == "rebuilt"), None)
    if last is None:
        return ""
    why = {
        # The seal cannot tell an edit from a copy or a new private key (every record fails once after a rotation).
        "tampered": tr.gettext("The record kept in this comment could not be verified (edited by hand, copied from "
                               "another issue, or the App's private key changed)"),
        "unsealed": tr.gettext("The record kept in this comment carried no seal (it was written before records were "
                               "sealed, or its seal was removed)"),
    }.get(last.detail, tr.gettext("The record kept in this comment could not be read"))
    return tr.gettext("%(why)s, so on %(date)s (UTC) the bot rebuilt the application's state from its comments.",
                      why=why, date=day(last.at, tr))


def _summary(record: Record, rules: Rules, today: dt.date, tr: Translator) -> str:
    if record.outcome:
        label = rules.stages.outcomes[record.outcome.name].label.name
        head = tr.gettext("**Outcome:** %(outcome)s (`%(label)s`)", outcome=record.outcome.name,
                          label=escape_inline(label))
    elif record.stage_since:
        head = tr.gettext("**Stage:** %(stage)s since %(date)s", stage=record.stage or "—",
                          date=day(record.stage_since, tr))
    else:
        head = tr.gettext("**Stage:** %(stage)s", stage=record.stage or "—")
    eligibility = f"{OK} " + tr.gettext("eligible") if record.eligible else f"{FAIL} " + tr.gettext("not eligible yet")
    if record.eligibility_pending:
        eligibility = f"{WAIT} " + tr.gettext("waiting for the evidence pack")
    if not record.checks:
        eligibility = tr.gettext("not checked yet")
    line = tr.gettext("%(head)s · **Eligibility:** %(eligibility)s", head=head, eligibility=eligibility)
    if record.round and rules.funding.dated:
        line += " · " + tr.gettext("**Round:** %(round)s", round=escape_inline(record.round, 40))
    elif rules.funding.dated and record.checks and not record.outcome:
        upcoming = rules.funding.next_round(today)
        line += " · " + (tr.gettext("**Round:** waiting for %(round)s, which opens on %(date)s",
                                    round=escape_inline(upcoming.name, 40), date=tr.date(upcoming.opens))
                         if upcoming and upcoming.opens else tr.gettext("**Round:** waiting for the next round"))
    if record.needs_info:
        asked = tr.gettext("**More information needed** (asked by %(person)s on %(date)s):",
                           person=person(record.needs_info.by), date=day(record.needs_info.at, tr))
        line += f"\n\n{WARN} {asked}\n\n{escape_block(record.needs_info.text)}"
    return line


def _form(record: Record, template: FormTemplate, tr: Translator) -> str:
    title = tr.gettext("Application form")
    if not record.form_problems:
        return _section(title, f"{OK} " + tr.gettext("Complete."))
    items = "\n".join(f"- {FAIL} {escape_inline(describe(p, tr, template), limit=500)}" for p in record.form_problems)
    return _section(title, items, tr.gettext("Edit the issue to fix these; the checks run again when you save."))


def _eligibility(record: Record, template: FormTemplate, tr: Translator) -> str:
    if not record.checks:
        return _section(tr.gettext("Eligibility"), tr.gettext("Not checked yet."))
    waived = {w.check: w for w in record.waivers}
    rows = [_row(tr.gettext("Check"), tr.gettext("Result"), tr.gettext("Figure")), "|---|---|---|"]
    notes: list[str] = []
    for check in record.checks:
        title = tr.gettext(CHECK_TITLES[check.id]) if check.id in CHECK_TITLES else check.id
        mark = OK if check.ok else (f"{WARN} " + tr.gettext("waived") if check.id in waived else WAIT if check.pending
                                    else FAIL)
        rows.append(_row(title, mark, escape_inline(describe(check.figure, tr, template))))
        if not check.ok and check.id not in waived and check.detail:
            notes.append("- " + tr.gettext("**%(check)s:** %(detail)s", check=title,
                                           detail=escape_inline(describe(check.detail, tr, template), limit=500)))
        if check.warning:
            notes.append(f"- {WARN} {escape_inline(describe(check.warning, tr, template), limit=500)}")
        if check.id in waived:
            w = waived[check.id]
            notes.append(f"- {WARN} " + tr.gettext("**%(check)s** waived by %(person)s on %(date)s: %(reason)s",
                                                   check=title, person=person(w.by), date=day(w.at, tr),
                                                   reason=escape_inline(w.reason)))
    checked = "<sub>" + tr.gettext("Checked %(date)s (UTC) on %(repository)s.", date=day(record.checked_at, tr),
                                   repository=escape_inline(record.repository)) + "</sub>" \
        if record.checked_at and record.repository else ""
    return _section(tr.gettext("Eligibility"), "\n".join(rows), "\n".join(notes), checked)


# How an application entered a stage (`StageEntry.via`), beside who moved it; a command (`/advance`)
# is the same word in every language.
VIA_WORDS = {
    # Translators: the status comment's stage history: who moved the application, and how (filed it).
    "intake": N_("%(person)s (intake)"),  # the application was filed: its first stage
    "eligibility": N_("%(person)s (eligibility)"),  # moved on automatically once screening passed
    "label": N_("%(person)s (label)"),  # a person put the stage's label on the issue
}


def _moved_by(person_shown: str, via: str, tr: Translator) -> str:
    if via in VIA_WORDS:
        return tr.gettext(VIA_WORDS[via], person=person_shown)
    return tr.gettext("%(person)s (%(via)s)", person=person_shown, via=escape_inline(via, 40))


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _review(record: Record, rules: Rules, tr: Translator) -> str:
    if not record.history:
        return _section(tr.gettext("Review"), tr.gettext("Not started."))
    rows = [_row(tr.gettext("Stage"), tr.gettext("Since"), tr.gettext("By")), "|---|---|---|"]
    shown = record.history[-SHOW_HISTORY:]
    if len(record.history) > len(shown):
        earlier = len(record.history) - len(shown)
        rows.append(_row("… " + tr.ngettext("%(n)s earlier move", "%(n)s earlier moves", earlier), "", ""))
    for entry in shown:
        rows.append(_row(entry.stage, day(entry.at, tr), _moved_by(person(entry.by), entry.via, tr)))
    order = " → ".join(f"**{s.name}**" if s.name == record.stage and not record.outcome else s.name
                       for s in rules.stages.stages)
    return _section(tr.gettext("Review"), order, "\n".join(rows))


def _conflicts(record: Record, tr: Translator) -> str:
    if not record.recusals and not record.conflicts and not record.affiliated:
        return ""
    lines = ["- " + (tr.gettext("%(person)s recused on %(date)s: %(reason)s", person=person(r.reviewer),
                                date=day(r.at, tr), reason=escape_inline(r.reason, 200)) if r.reason else
                     tr.gettext("%(person)s recused on %(date)s", person=person(r.reviewer), date=day(r.at, tr)))
             for r in record.recusals[-SHOW_SCORERS:]]
    found = {c.reviewer.lower(): c for c in record.conflicts}
    # The reason a conflict was found is the `Conflict`'s own text, a catalogue message.
    lines += ["- " + tr.gettext("%(person)s: %(reason)s", person=person(c.reviewer), reason=tr.gettext(c.reason))
              for c in list(found.values())[-SHOW_SCORERS:]]
    lines += ["- " + tr.gettext("%(person)s: a public member of the applicant's organisation", person=person(login))
              for login in record.affiliated if login not in found][:SHOW_SCORERS]
    return _section(tr.gettext("Conflicts of interest"),
                    tr.gettext("These reviewers do not review this application; their scores and votes here do not "
                               "count."), "\n".join(lines))


def _scores(record: Record, rules: Rules, tr: Translator) -> str:
    counted = [s for s in record.scores if record.counts(s.reviewer)]
    if not counted:
        return ""
    rows = [_row(tr.gettext("Criterion"), tr.gettext("Mean"), tr.gettext("Scores"), tr.gettext("Reviewers")),
            "|---|---|---|---|"]
    for criterion in rules.stages.criteria:
        given = sorted((s for s in counted if s.criterion == criterion), key=lambda s: s.reviewer.lower())
        if not given:
            rows.append(_row(criterion, "—", tr.number(0), ""))
            continue
        names = [f"{person(s.reviewer)} {tr.number(s.value)}" for s in given[:SHOW_SCORERS]]
        if len(given) > SHOW_SCORERS:
            names.append(tr.ngettext("%(n)s more", "%(n)s more", len(given) - SHOW_SCORERS))
        rows.append(_row(criterion, tr.number(mean(s.value for s in given), "0.0"), tr.number(len(given)),
                         tr.join(names)))
    return _section(tr.gettext("Scores"), "\n".join(rows))


def _votes(record: Record, rules: Rules, tr: Translator) -> str:
    shown = vote_lines(record, rules, tr)
    return _section(tr.gettext("Community vote"), *shown) if shown else ""


def _approvals(record: Record, rules: Rules, tr: Translator) -> str:
    shown = approval_lines(record, rules, tr)
    return _section(tr.gettext("Approvals"), "\n".join(f"- {line}" for line in shown)) if shown else ""


def _decision(record: Record, rules: Rules, ledger: FundingLedger | None, tr: Translator) -> str:
    funding = rules.funding
    outcome = record.outcome
    title = tr.gettext("Decision")
    if outcome is None:
        stage = rules.stages.stage(record.stage)
        pool = funding.pool(record.round) if record.round else None
        if stage and stage.decides and pool is not None and ledger is not None:
            left = pool - ledger.committed
            return _section(title, tr.gettext("Pending. Round %(round)s has %(left)s left of %(pool)s; the cap per "
                                              "project is %(cap)s.", round=escape_inline(record.round, 40),
                                              left=tr.amount(left, funding.currency),
                                              pool=tr.amount(pool, funding.currency),
                                              cap=tr.amount(funding.cap(record.round), funding.currency)))
        return ""
    when = {"date": day(outcome.at, tr), "person": person(outcome.by)}
    if outcome.name == "funded":
        amount = tr.amount(outcome.amount or Decimal(0), funding.currency)
        return _section(title, f"{OK} " + tr.gettext("**Funded: %(amount)s** on %(date)s by %(person)s.",
                                                     amount=amount, **when), _tranches(record, rules, tr))
    if outcome.name == "declined":
        return _section(title, tr.gettext("**Declined** on %(date)s by %(person)s:", **when),
                        escape_block(outcome.reason or ""))
    return _section(title, tr.gettext("**Withdrawn** by the applicant %(person)s on %(date)s.", **when))


def _tranches(record: Record, rules: Rules, tr: Translator) -> str:
    """The grant's parts: each released one (amount, when, on whose word), then those still to come (by
    the plan pinned at `/approve`, not the rules now in force)."""
    parts = record.tranche_plan(rules.funding.tranches)
    if len(parts) < 2 and len(record.tranches) < 2:
        return ""
    currency = rules.funding.currency
    rows = [_row(tr.gettext("Part"), tr.gettext("Amount"), tr.gettext("Released"), tr.gettext("On the word of")),
            "|---|---|---|---|"]
    for t in record.tranches:
        after = tr.gettext("the approval") if t.ref == "approve" else tr.gettext("an accepted report")
        rows.append(_row(tr.gettext("%(k)s of %(n)s", k=tr.number(t.k), n=tr.number(t.n)),
                         tr.amount(t.amount, currency), day(t.at, tr),
                         tr.gettext("%(person)s (%(via)s)", person=person(t.by), via=after)))
    for k in range(len(record.tranches) + 1, len(parts) + 1):
        rows.append(_row(tr.gettext("%(k)s of %(n)s", k=tr.number(k), n=tr.number(len(parts))),
                         tr.number(parts[k - 1] / 100, "0.##%"), tr.gettext("when a progress report is accepted"), ""))
    return "\n".join(rows)


def _reports(record: Record, rules: Rules, today: dt.date, tr: Translator) -> str:
    status = report_status(record, rules.reports, today)
    if not record.reports and status.next_due is None:
        return ""
    received = tr.gettext("Received: %(received)s of %(expected)s.", received=tr.number(status.received),
                          expected=tr.number(status.expected)) if status.expected else \
        tr.gettext("Received: %(received)s.", received=tr.number(status.received))
    lines = [received]
    shown = record.reports[-SHOW_REPORTS:]
    if len(record.reports) > len(shown):
        lines.append("- … " + tr.ngettext("%(n)s earlier report", "%(n)s earlier reports", len(record.reports) - len(shown)))
    for entry in shown:
        kind, _, ref = entry.ref.partition(":")
        if kind == "issue":
            text = tr.gettext("%(date)s by %(person)s (#%(issue)s)", date=day(entry.at, tr), person=person(entry.by),
                              issue=ref)
        else:
            text = tr.gettext("%(date)s by %(person)s (a comment)", date=day(entry.at, tr), person=person(entry.by))
        if entry.review:
            verdict = tr.gettext("accepted") if entry.review == "accepted" else tr.gettext("rejected")
            text = tr.gettext("%(report)s: %(verdict)s by %(person)s", report=text, verdict=verdict,
                              person=person(entry.reviewed_by))
            if entry.reason:
                text += f" ({escape_inline(entry.reason, 200)})"
        lines.append(f"- {text}")
    if status.next_due:
        due = tr.date(status.next_due)
        if status.state is ReportState.OVERDUE:
            text = tr.gettext("Next report due: **%(date)s** (UTC) %(mark)s overdue.", date=due, mark=FAIL)
        elif status.state is ReportState.DUE:
            text = tr.gettext("Next report due: **%(date)s** (UTC) %(mark)s due soon.", date=due, mark=WARN)
        else:
            text = tr.gettext("Next report due: **%(date)s** (UTC).", date=due)
        lines.append("\n" + tr.sentences(text, tr.gettext("Comment `/report` followed by the report, or open a "
                                                          "progress-report issue naming this application.")))
    else:
        lines.append("\n" + tr.gettext("All reports received. Thank you!"))
    return _section(tr.gettext("Progress reports"), "\n".join(lines))


def _failures(record: Record, tr: Translator) -> str:
    if not record.failures:
        return ""
    lines = ["- " + tr.gettext("%(date)s: %(what)s: GitHub answered %(status)s (%(message)s)", date=day(f.at, tr),
                               what=escape_inline(describe(f.what, tr), 60), status=f.status,
                               message=escape_inline(f.message, 200))
             for f in record.failures]
    return _section(tr.gettext("Could not be written"),
                    tr.gettext("GitHub refused these writes; the bot went on without them."), "\n".join(lines))
