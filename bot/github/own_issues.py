"""The issues the App keeps in a fund's repository — the fund's state, its configuration problems, the
sweep log — found again by their hidden markers, their numbers remembered for the life of the process.

Only the App's own issues count (by its login, SPEC §11). A remembered issue that is gone — deleted by
an administrator (404, 410), transferred to another repository (301), or no longer the App's issue
with that marker — is forgotten, and the issue is looked for again among the App's issues; the next
write opens a new one if none is found.

The fund-state issue's data is sealed (`bot.policy.seal`): a ledger edited by hand is read, but known
as such (`FundState.verified`), and one sealed with the App's previous key is marked to be written
again with the current one.
"""
from __future__ import annotations

import dataclasses
import logging
import threading

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError, NotFound
from bot.policy.fundstate import FundRead, FundState, decode
from bot.policy.markers import FUND_STATE_MARKER, own_issues
from bot.policy.models import Issue
from bot.policy.seal import fund_state_holds

log = logging.getLogger("fundbot.issues")
GONE = (301, 404, 410)  # moved (transferred), not found (deleted), gone


class OwnIssues:
    """The App's issues of each fund, by marker: found by one listing the first time, then read by number."""

    def __init__(self, seal_key: bytes | None = None, previous: tuple[bytes, ...] = ()) -> None:
        self._numbers: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._key = seal_key
        self._previous = previous  # accepted too, while the App's private key is rotated

    def find(self, gateway: GitHubGateway, repo: str, marker: str, label: str) -> Issue | None:
        """:calls: `GET /repos/{o}/{r}/issues/{n}` (conditional) for an issue found before — or the listing
        of the App's issues (`labels=<label>`, conditional) to find it. None when there is none."""
        key = (repo.lower(), marker)
        with self._lock:
            number = self._numbers.get(key)
        if number is not None:
            try:
                issue = gateway.issue(repo, number)
                if issue.user.login.lower() == gateway.app_login.lower() and marker in issue.body:
                    return issue
            except NotFound:
                pass
            except GitHubError as err:
                if err.status not in GONE:
                    raise
            log.warning("an issue the App keeps is gone; looking for it again",
                        extra={"repo": repo, "issue": number, "reason": marker})
            self.forget(repo, marker)
        mine = own_issues(gateway.issues(repo, labels=label, state="all"), gateway.app_login, marker)
        if mine:
            self.remember(repo, marker, mine[0].number)
        return mine[0] if mine else None

    def remember(self, repo: str, marker: str, number: int) -> None:
        with self._lock:
            self._numbers[(repo.lower(), marker)] = number

    def forget(self, repo: str, marker: str | None = None) -> None:
        """Forget one issue (`marker`), or every issue of `repo` (the App was removed from it)."""
        with self._lock:
            for key in [k for k in self._numbers if k[0] == repo.lower() and marker in (None, k[1])]:
                del self._numbers[key]

    def fund_state(self, gateway: GitHubGateway, repo: str, label: str, *, granted_label: str | None = None
                   ) -> FundRead:
        """The fund-state issue's state, its seal checked; empty when there is none — unless `granted_label`
        is given and applications carry it (:calls: their listing): then the issue that held the grants was
        deleted or moved, and its state is `incomplete` until the sweep rebuilds it."""
        issue = self.find(gateway, repo, FUND_STATE_MARKER, label)
        if issue is not None:
            return FundRead(self._decode(repo, issue.body), issue.number)
        if granted_label is not None and gateway.issues(repo, labels=granted_label, state="all"):
            log.warning("the fund-state issue is gone while grants exist: no grant against a pool until the sweep "
                        "rebuilds it", extra={"repo": repo})
            return FundRead(FundState(incomplete=True), None)
        return FundRead(FundState(), None)

    def _decode(self, repo: str, body: str) -> FundState:
        stale: list[bool] = []  # sealed with the previous key only: to be written again with the current one

        def holds(payload: str, signature: str | None) -> bool:
            if fund_state_holds(self._key, repo, payload, signature):
                return True
            stale.append(bool(self._previous) and fund_state_holds(self._key, repo, payload, signature,
                                                                   self._previous))
            return stale[-1]

        state = decode(body, holds)
        if state is not None and any(stale):
            state = dataclasses.replace(state, stale_seal=True)
        if state is not None and not state.verified:
            log.warning("the fund-state issue failed its seal: its ledger is not used until the sweep rebuilds it",
                        extra={"repo": repo})
        return state or FundState()
