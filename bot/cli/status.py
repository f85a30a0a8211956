"""`fundbot status`: each application of a fund with what it waits on — on whom, since when — and when the
next reminder falls due; the stalled ones (longer in their stage than the rules allow) first said so. The
same rows as the dashboard's stalled-review view (`bot.views.rows`), read the same way. Reads only."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping

from bot.cli.common import context_for, fail, rules_for, settings_for
from bot.config.settings import REPO_NAME, Need


def cmd_status(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.github.transport import GitHubError
    from bot.jobs.sweep import parse_now
    from bot.policy.digest import WAITING_WORDS
    from bot.policy.i18n import SOURCE, translator
    from bot.views.rows import away_today, pipeline_rows, waiting_rows

    if args.repo and not REPO_NAME.fullmatch(args.repo):
        return fail(f"--repo must be OWNER/NAME, not {args.repo!r}")
    try:
        now = parse_now(args.now)
    except ValueError:
        return fail(f"--now must be an ISO-8601 date or time, not {args.now!r}")
    settings = settings_for(environ, Need.APP_OR_TOKEN | (Need.NOTHING if args.repo else Need.REPO))
    ctx = context_for(settings, rules_for(settings))
    repo = args.repo or settings.repo or ""
    today = now.date()
    try:
        gateway = ctx.github.for_repository(repo)
        rules = ctx.fund_rules(gateway, repo)
        if rules is None:
            return fail(f"{repo} is not a fund, or has never had a valid .github/fund-bot.yml", 1)
        bot_issues = gateway.issues(repo, labels=rules.stages.labels.bot.name, state="all")
        rows = pipeline_rows(gateway, repo, rules, today, ctx.seal_key, ctx.seal_previous,
                             away=away_today(bot_issues, gateway.app_login, today))
    except GitHubError as err:
        return fail(f"could not read the applications of {repo}: {err}", 1)
    en = translator(SOURCE)
    shown = waiting_rows(rows)
    if args.stalled:
        shown = [r for r in shown if r.stalled or (r.waiting and r.waiting.escalated)]
    if args.json:
        print(json.dumps([{
            "number": r.number, "project": r.project, "url": r.html_url, "stage": r.column, "stalled": r.stalled,
            "waiting_on": r.waiting.on.value, "people": list(r.waiting.people),  # type: ignore[union-attr]
            "since": r.waiting.since.date().isoformat(),  # type: ignore[union-attr]
            "next_reminder": r.waiting.next_reminder.isoformat() if r.waiting.next_reminder else None,  # type: ignore[union-attr]
            "escalated": r.waiting.escalated,  # type: ignore[union-attr]
        } for r in shown], ensure_ascii=False, indent=2))
        return 0
    for r in shown:
        w = r.waiting
        assert w is not None
        flags = [f for f, on in (("stalled", r.stalled), ("escalated to the leads", w.escalated)) if on]
        people = ", ".join(f"@{p}" for p in w.people) or "—"
        print(f"#{r.number:<5} {r.column:<11} waiting for {en.gettext(WAITING_WORDS[w.on]):<34} on {people:<24} "
              f"since {w.since.date().isoformat()} ({(today - w.since.date()).days} days)  "
              f"next reminder {w.next_reminder.isoformat() if w.next_reminder else '—'}"
              + (f"  [{', '.join(flags)}]" if flags else ""))
    waiting_count = len(waiting_rows(rows))
    print(f"{repo}: {len(rows)} applications, {waiting_count} waiting, "
          f"{sum(1 for r in rows if r.stalled)} stalled (as of {today.isoformat()}, UTC)", file=sys.stderr)
    return 0


__all__ = ["cmd_status"]
