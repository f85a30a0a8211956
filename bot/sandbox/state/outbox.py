"""The webhook deliveries that changes send, built from the state as it is after the change: a simulated
person who acted is handed the first (GitHub's follow-ups wait in the queue), and the API's writes
queue theirs for the App when it is installed on the repository (``pending_deliveries()``)."""
from __future__ import annotations

import threading
from typing import Any

from .. import deliveries
from ..deliveries import Delivery
from ..model import Account, Issue, Repo


class Outbox:
    """The sandbox's part that sends webhook deliveries."""

    lock: threading.RLock
    _pending: list[Delivery]  # deliveries GitHub would have sent the App, not yet drained

    def _deliver(self, event: str, action: str, issue: Issue, sender: Account, **extra: Any) -> list[Delivery]:
        inst = self.installation_for(issue.repo)
        return [deliveries.build(event, action, issue=issue, sender=sender, urls=self.urls(),
                                 app=self.app_json(), installation_id=inst.id if inst else None, **extra)]

    def queue(self, sent: list[Delivery], repo: Repo) -> None:
        """API writes: GitHub sends the app the deliveries for repositories it is installed on."""
        if self.installation_for(repo) is not None:
            self._pending.extend(sent)

    def _hand_over(self, sent: list[Delivery]) -> Delivery:
        """The first delivery goes to the caller; GitHub's follow-ups wait in the queue."""
        self._pending.extend(sent[1:])
        return sent[0]

    def pending_deliveries(self) -> list[Delivery]:
        """Drain the deliveries GitHub would have sent the app since the last call."""
        with self.lock:
            drained, self._pending = self._pending, []
            return drained
