"""The fund's own state, kept by the App in one issue of the fund's repository. Pure.

What no single application holds lives here, where one conditional read finds it (SPEC §13):
the money granted in each round (so `/approve` costs the same with 0 or 1,000 grants), the
configuration last found valid (so a broken `.github/fund-bot.yml` never silently changes policy,
even after a restart), and the reviewers' availability (`/away`, `/back`). The issue's body shows it
to people; the same data sits hidden in it for the bot. The sweep reconciles the ledger with the
funded applications' own records.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.policy.i18n import N_, Translator, translator
from bot.policy.markers import FUND_STATE_MARKER, FUND_TAG, hidden, read_hidden
from bot.policy.models import FundChange, RecordGrant, SetAway, UpsertIssue
from bot.policy.record import iso, parse_iso
from bot.policy.rules import Rules
from bot.policy.seal import fund_state_seal

FUND_STATE_TITLE = N_("Fund Bot: fund state")  # in the fund's language; the issue is found by its marker
FUND_STATE_VERSION = 1
SERVER_RULES = "(the server's rules)"  # the valid configuration of a fund that has no file of its own


@dataclass(frozen=True)
class FundState:
    """Grants per round (round name -> issue number -> amount), the valid configuration's blob shas
    (path -> sha), and reviewers away (login -> the day they are back, UTC)."""

    grants: Mapping[str, Mapping[int, Decimal]] = field(default_factory=dict)
    config: Mapping[str, str] = field(default_factory=dict)
    away: Mapping[str, dt.date] = field(default_factory=dict)
    assigned: Mapping[str, dt.datetime] = field(default_factory=dict)  # login -> last assigned by load
    # issue number -> the grant's tranche plan (per cent) as pinned at /approve: what a rebuilt record
    # takes again, whatever the rules say by then
    plans: Mapping[int, tuple[Decimal, ...]] = field(default_factory=dict)
    # The grants may be incomplete: the issue that held them was deleted or moved while grants existed. The
    # ledger is not used until the sweep rebuilds it from the applications' records.
    incomplete: bool = False
    # False: the block failed its seal (edited by hand): the ledger is not used until the sweep rebuilds it.
    verified: bool = field(default=True, compare=False)
    stale_seal: bool = field(default=False, compare=False)  # sealed with the App's previous key: write it again

    def committed(self, round_name: str) -> Decimal:
        return sum(self.grants.get(round_name, {}).values(), Decimal(0))

    def with_grant(self, round_name: str, number: int, amount: Decimal | None,
                   plan: tuple[Decimal, ...] = ()) -> "FundState":
        """The ledger with `number`'s grant in `round_name` set (None: removed), and its tranche plan."""
        grants = {r: dict(g) for r, g in self.grants.items()}
        round_grants = grants.setdefault(round_name, {})
        plans = dict(self.plans)
        if amount is None:
            round_grants.pop(number, None)
            plans.pop(number, None)
        else:
            round_grants[number] = amount
            if plan:
                plans[number] = tuple(plan)
        return dataclasses.replace(self, grants={r: g for r, g in grants.items() if g}, plans=plans)

    def with_change(self, change: FundChange) -> "FundState":
        """The state after one change an application's run asked for."""
        if isinstance(change, RecordGrant):
            return self.with_grant(change.round, change.number, change.amount, change.plan)
        if isinstance(change, SetAway):
            away = {k: v for k, v in self.away.items() if k != change.login.lower()}
            if change.until is not None:
                away[change.login.lower()] = change.until
            return dataclasses.replace(self, away=away)
        return dataclasses.replace(self, assigned={**self.assigned, **{login.lower(): change.at
                                                                        for login in change.logins}})

    def away_on(self, day: dt.date) -> frozenset[str]:
        """Reviewers away on `day` (back on the day their `/away until` names)."""
        return frozenset(login for login, until in self.away.items() if day < until)


@dataclass(frozen=True)
class FundRead:
    """The fund-state issue as read: its state, and its number (None: there is none yet)."""

    state: FundState
    number: int | None = None


def to_data(state: FundState) -> dict[str, Any]:
    return {
        "v": FUND_STATE_VERSION,
        "grants": {r: {str(n): format(a, "f") for n, a in sorted(g.items())} for r, g in sorted(state.grants.items())},
        "config": dict(sorted(state.config.items())),
        "away": {login: day.isoformat() for login, day in sorted(state.away.items())},
        "assigned": {login: iso(at) for login, at in sorted(state.assigned.items())},
        **({"plans": {str(n): [format(p, "f") for p in plan] for n, plan in sorted(state.plans.items())}}
           if state.plans else {}),
        **({"incomplete": True} if state.incomplete else {}),
    }


def decode(body: str | None, holds: Callable[[str, str | None], bool] | None = None) -> FundState | None:
    """The state kept in the fund-state issue's body; None when there is none or it cannot be read.
    `holds(payload, signature)` checks its seal (`verified` says the answer)."""
    block = read_hidden(FUND_TAG, body)
    if block is None or block.data.get("v") != FUND_STATE_VERSION:
        return None
    data = block.data
    verified = holds is None or holds(block.payload, block.signature)
    try:
        return FundState(
            grants={str(r): {int(n): Decimal(str(a)) for n, a in g.items()} for r, g in (data.get("grants") or {}).items()},
            config={str(p): str(s) for p, s in (data.get("config") or {}).items()},
            away={str(u): dt.date.fromisoformat(d) for u, d in (data.get("away") or {}).items()},
            assigned={str(u): parse_iso(t) for u, t in (data.get("assigned") or {}).items()},
            plans={int(n): tuple(Decimal(str(p)) for p in plan) for n, plan in (data.get("plans") or {}).items()},
            incomplete=bool(data.get("incomplete")),
            verified=verified,
        )
    except (AttributeError, TypeError, ValueError, ArithmeticError):
        return None


def render(state: FundState, currency: str, tr: Translator, seal_of: Callable[[str], str] | None = None) -> str:
    """The issue's body, in the fund's language: what people see, then the hidden data (the same in any),
    sealed by `seal_of(payload)` when given."""
    parts = [FUND_STATE_MARKER, "## " + tr.gettext("Fund Bot: the fund's state"),
             tr.gettext("Fund Bot keeps this issue up to date; please leave it open and unedited. It holds what no "
                        "single application does: the money granted in each round, the configuration in use, and "
                        "who is away.")]
    if state.incomplete:
        parts.append(tr.gettext("The grants may be incomplete: the issue that held them was deleted or moved. The next "
                                "sweep rebuilds them from the applications' records; until then no grant is made "
                                "against a pool."))
    if state.grants:
        rows = ["| " + " | ".join((tr.gettext("Round"), tr.gettext("Grants"), tr.gettext("Granted"))) + " |",
                "|---|---|---|"]
        rows += [f"| {name} | {tr.number(len(g))} | {tr.amount(state.committed(name), currency)} |"
                 for name, g in sorted(state.grants.items())]
        parts.append("### " + tr.gettext("Grants") + "\n\n" + "\n".join(rows))
    if state.config:
        parts.append("### " + tr.gettext("Configuration in use") + "\n\n" + "\n".join(
            "- " + (tr.gettext("the server's rules (the fund's own file is invalid)") if path == SERVER_RULES else
                    tr.gettext("`%(path)s` at `%(sha)s`", path=path, sha=sha[:12]))
            for path, sha in sorted(state.config.items())))
    if state.away:
        parts.append("### " + tr.gettext("Away") + "\n\n" + "\n".join(
            "- " + tr.gettext("%(login)s until %(date)s", login=login, date=tr.date(day))
            for login, day in sorted(state.away.items())))
    parts.append(hidden(FUND_TAG, to_data(state), seal=seal_of))
    return "\n\n".join(parts) + "\n"


def fund_state_write(fund: FundRead, state: FundState, repo: str, rules: Rules, key: bytes | None,
                     changes: tuple[FundChange, ...] = ()) -> UpsertIssue:
    """The fund-state issue written with `state` (opened the first time), in the fund's language, sealed
    with `key`; `changes` are what made it (each is a line of the output)."""
    tr = translator(rules.language)
    body = render(state, rules.funding.currency, tr,
                  None if key is None else lambda payload: fund_state_seal(key, repo, payload))
    return UpsertIssue(FUND_STATE_MARKER, tr.gettext(FUND_STATE_TITLE), body, fund.number,
                       labels=(rules.stages.labels.bot.name,), changes=changes)
