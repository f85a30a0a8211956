"""The fund's money rules, in one place (SPEC §5, §13, §14). Pure.

A round's ledger is what `/approve` checks the pool with: the grants the App entered in the fund-state
issue, by round. Here are the ledger of the round that holds an application, the cap and pool checks
of an approval, a grant (its tranche plan pinned, its first part released), the release of each later
part, the grants the applications' own sealed records hold, and the ledger put back in step with them
(`reconcile`, which the sweep runs). Nothing here reads GitHub: the pipeline gathers the fund's state,
and carries out what is decided.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from bot.policy.fundstate import FundState
from bot.policy.i18n import Translator
from bot.policy.record import Record, Tranche
from bot.policy.rules import Rules
from bot.policy.text import escape_inline


@dataclass(frozen=True)
class FundingLedger:
    """Money granted in one round: what `/approve` checks against the pool. The App writes it (the
    fund-state issue) when it makes a grant, so a rebuild also reads there what was granted then."""

    committed: Decimal
    grants: Mapping[int, Decimal]  # issue number -> amount
    plans: Mapping[int, tuple[Decimal, ...]] = field(default_factory=dict)  # number -> tranche plan
    verified: bool = True  # False: the fund-state issue failed its seal; the sweep rebuilds it
    missing: bool = False  # the fund-state issue was lost (deleted, moved) while grants existed: likewise


def ledger_of(state: FundState, round_name: str, number: int | None = None) -> FundingLedger:
    """The ledger of the round that holds application `number`'s grant when one does (a rebuilt
    record's round is not known yet, and rounds are renamed), else of `round_name`."""
    holding = [name for name, grants in sorted(state.grants.items()) if number is not None and number in grants]
    round_name = holding[0] if holding else round_name
    grants = dict(state.grants.get(round_name, {}))
    return FundingLedger(committed=state.committed(round_name), grants=grants,
                         plans={n: p for n, p in state.plans.items() if n in grants}, verified=state.verified,
                         missing=state.incomplete)


def round_of(rules: Rules, filed: dt.date) -> str:
    """The funding round an application filed on `filed` belongs to ("" when outside every round)."""
    spec = rules.funding.round_on(filed)
    return spec.name if spec else ""


def ledger_round(record: Record | None, filed: dt.datetime, rules: Rules) -> str:
    """The round whose ledger the application's grant counts in ("" while it waits for one)."""
    if record is not None and record.round:
        return record.round
    return round_of(rules, filed.astimezone(dt.timezone.utc).date())


def approval_problem(amount: Decimal, record: Record, number: int, rules: Rules, ledger: FundingLedger | None,
                     tr: Translator) -> str | None:
    """Why `/approve <amount>` may not fund application `number` now (None: it may), with the figures:
    no round yet, over the per-project cap, a ledger edited by hand, more than is left of the pool."""
    funding = rules.funding

    def money(value: Decimal) -> str:
        return tr.amount(value, funding.currency)

    round_name = record.round
    if not round_name:
        return tr.gettext("`/approve`: the application is not in a funding round yet; it waits for the next one.")
    cap = funding.cap(round_name)
    if amount > cap:
        return tr.gettext("`/approve %(amount)s` is over the per-project cap of %(cap)s (%(file)s).",
                          amount=money(amount), cap=money(cap), file=rules.source_of("funding"))
    pool = funding.pool(round_name)
    if pool is None or ledger is None:
        return None
    if ledger.missing:
        # Deleted or moved while grants exist: an empty ledger would let the pool be granted twice.
        return tr.gettext("`/approve`: the fund's ledger of grants (the fund-state issue) is missing: it was deleted "
                          "or moved, so the pool cannot be checked. The next sweep rebuilds the ledger from the "
                          "applications' records; approve again after it.")
    if not ledger.verified:
        # Edited by hand: what it says is granted cannot be checked against the pool.
        return tr.gettext("`/approve`: the fund's ledger of grants (the fund-state issue) was changed by someone other "
                          "than Fund Bot, so the pool cannot be checked. The next sweep rebuilds the ledger from the "
                          "applications' records; approve again after it.")
    committed = ledger.committed - ledger.grants.get(number, Decimal(0))
    left = pool - committed
    if amount > left:
        return tr.gettext("`/approve %(amount)s` is more than is left in round %(round)s: %(left)s of %(pool)s "
                          "(%(committed)s already granted).", amount=money(amount),
                          round=escape_inline(round_name, 40), left=money(left), pool=money(pool),
                          committed=money(committed))
    return None


def grant(record: Record, amount: Decimal, plan: tuple[Decimal, ...], rules: Rules, at: dt.datetime,
          by: str) -> Record:
    """The application funded with `amount`: its tranche plan pinned (later changes of the rules'
    `tranches` leave this grant alone) and the first part released."""
    funded = record.finished("funded", by=by, at=at, amount=amount)
    return release_tranche(dataclasses.replace(funded, plan=tuple(plan)), rules, at, by, "approve")


def release_tranche(record: Record, rules: Rules, at: dt.datetime, by: str, ref: str) -> Record:
    """The grant's next tranche released (none when all are): k of n, the last one what is left, so the
    parts add up to the grant exactly. A tranche is never released twice: k is the count released.
    The parts are the plan pinned at `/approve` (the rules' only for a record from before plans were)."""
    parts = record.tranche_plan(rules.funding.tranches)
    k = len(record.tranches) + 1
    if not record.funded or k > len(parts):
        return record
    amount = tranche_amount(record.granted, parts, k, record.released)
    tranche = Tranche(k=k, n=len(parts), amount=amount, at=at, by=by, ref=ref)
    return dataclasses.replace(record, tranches=record.tranches + (tranche,)).audited(
        at, by, "tranche", f"{k} of {len(parts)}: {format(amount, 'f')} ({ref})")


def tranche_amount(granted: Decimal, parts: tuple[Decimal, ...], k: int, before: Decimal) -> Decimal:
    """Part `k` of a grant paid in `parts` (per cent): its share to the cent, the last one what is left
    after the parts `before` it, so the parts add up to the grant exactly."""
    return granted - before if k == len(parts) else (granted * parts[k - 1] / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class PlannedTranche:
    """Part k of n of a grant: released (when, on whose word), or still to come, with its amount."""

    k: int
    n: int
    amount: Decimal
    released: Tranche | None  # None: not released yet


def tranche_schedule(record: Record, rules: Rules) -> tuple[PlannedTranche, ...]:
    """Every part of a funded application's grant, in order: those released as the record holds them,
    then those to come as `release_tranche` will release them (the plan pinned at `/approve`)."""
    if not record.funded:
        return ()
    parts = record.tranche_plan(rules.funding.tranches)
    n = max(len(parts), len(record.tranches))
    schedule: list[PlannedTranche] = []
    before = Decimal(0)
    for k in range(1, n + 1):
        released = record.tranches[k - 1] if k <= len(record.tranches) else None
        amount = released.amount if released else tranche_amount(record.granted, parts, k, before)
        before += amount
        schedule.append(PlannedTranche(k, released.n if released else len(parts), amount, released))
    return tuple(schedule)


def grants_by_round(records: Iterable[tuple[int, Record]], rules: Rules) -> dict[str, dict[int, Decimal]]:
    """The grants the funded applications' own records hold, by round: what the ledger must say. A
    record from before rounds were kept counts in the first round."""
    grants: dict[str, dict[int, Decimal]] = {}
    for number, record in records:
        if record.funded and record.outcome and record.outcome.amount:
            grants.setdefault(record.round or rules.funding.rounds[0].name, {})[number] = record.outcome.amount
    return grants


def reconcile(state: FundState, records: Iterable[tuple[int, Record]], rules: Rules, *,
              held_before: Mapping[str, Mapping[int, Decimal]] | None = None) -> FundState | None:
    """The fund's state with its ledger in step with the applications' records (a grant entered whose
    record never got written, after a crash), or None when it is in step already. Grants of applications
    not among `records` (closed, the funded label taken off) stay; so do grants the ledger did not hold
    yet when the records were read (`held_before`: made meanwhile, after their record was read — the
    ledger is written before the record). A ledger edited by hand, or sealed with the App's previous key,
    is written again even when right."""
    records = list(records)
    examined = {number for number, _ in records}
    current = {r: dict(g) for r, g in state.grants.items() if g}
    earlier = {n for g in (held_before if held_before is not None else current).values() for n in g}
    wanted = {r: {n: a for n, a in g.items() if n not in examined or n not in earlier} for r, g in current.items()}
    for round_name, grants in grants_by_round(records, rules).items():
        wanted.setdefault(round_name, {}).update(grants)
    wanted = {r: g for r, g in wanted.items() if g}
    if current == wanted and state.verified and not state.stale_seal and not state.incomplete:
        return None
    granted = {n for g in wanted.values() for n in g}
    pinned = {number: record.plan for number, record in records if record.plan}
    plans = {n: state.plans.get(n) or pinned[n] for n in granted if state.plans.get(n) or n in pinned}
    return dataclasses.replace(state, grants=wanted, plans=plans, incomplete=False, verified=True, stale_seal=False)
