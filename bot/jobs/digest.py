"""The weekly digest kept by the sweep (`bot.policy.digest`): once the applications are swept, what each waits
on is listed in one issue, edited in place at most once a week and opened anew when it was deleted. This
process remembers the week it last wrote for each fund, so the sweeps of the rest of the week read nothing
for it; a failure to write it is a failure of the sweep, said in its log, and stops nothing else."""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError
from bot.jobs.context import Context
from bot.jobs.pipeline import apply
from bot.policy.digest import DigestItem, digest_write, week_of
from bot.policy.lines import failure
from bot.policy.markers import DIGEST_MARKER
from bot.policy.models import Issue
from bot.policy.record import Note, Record
from bot.policy.rules import Rules
from bot.policy.waiting import waiting

log = logging.getLogger("fundbot.sweep")


def digest_items(swept: Iterable[tuple[Issue, Record]], rules: Rules, now: dt.datetime,
                 away: frozenset[str]) -> list[DigestItem]:
    """What each swept application waits on (none: left out)."""
    items = []
    for issue, record in swept:
        form = rules.read_application(issue.body)
        found = waiting(record, issue, form, rules, now, away)
        if found is not None:
            project = str(form.answers.get("project_name") or issue.title)
            items.append(DigestItem(issue.number, project, record.outcome.name if record.outcome else record.stage,
                                    found))
    return items


def keep_digest(ctx: Context, gateway: GitHubGateway, repo: str, rules: Rules, swept: list[tuple[Issue, Record]],
                dry_run: bool) -> tuple[list[Note], list[Note]]:
    """The digest written when this week's is not there yet: (the lines written, the failures)."""
    now = ctx.clock()
    week = week_of(now)
    if dry_run or not rules.stages.digest or ctx.digests.get(repo.lower()) == week:
        return [], []
    try:
        with ctx.locks.fund(repo):  # two sweeps at once must not open two digests
            fund = ctx.funds.issues.fund_state(gateway, repo, rules.stages.labels.bot.name)
            items = digest_items(swept, rules, now, fund.state.away_on(now.date()))
            found = ctx.funds.issues.find(gateway, repo, DIGEST_MARKER, rules.stages.labels.bot.name)
            write = digest_write(found, items, rules, now)
            lines = []
            if write is not None:
                applied = apply(gateway, (write,), now, repo=repo)
                lines = applied.lines
                for marker, opened in applied.opened.items():
                    ctx.funds.issues.remember(repo, marker, opened.number)
        ctx.digests[repo.lower()] = week
        return lines, []
    except GitHubError as err:
        log.warning("sweep could not write the weekly digest", extra={"repo": repo, "reason": str(err)})
        return [], [failure("digest", error=str(err))]


__all__ = ["digest_items", "keep_digest"]
