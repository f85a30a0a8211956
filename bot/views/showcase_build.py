"""`fundbot showcase build OUT/`: read the fund from GitHub as the export does, make its showcase, write it.

The applications are read by `bot.views.rows` (one listing, each one's comments; the rows the export and
the dashboard read, each with its record checked against its seal); the progress-report issues an accepted
report names are read in one more listing (and one by one, only those the listing lacks). Then
`bot.views.showcase` decides what is shown and `bot.views.showcase_site` writes it.
"""
from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.github.gateway import GitHubGateway
from bot.github.transport import GitHubError
from bot.policy.models import Comment, Issue
from bot.policy.rules import Rules
from bot.views.rows import ApplicationRow, application_row, fund, read_applications
from bot.views.showcase import Showcase, showcase
from bot.views.showcase_site import files_in, render_site, write_site


def read_showcase(gateway: GitHubGateway, repo: str, rules: Rules, today: dt.date, seal_key: bytes,
                  seal_previous: tuple[bytes, ...] = ()) -> Showcase:
    """The fund's showcase, read from GitHub.

    :calls: `read_applications`'s requests, then, when an accepted report is an issue,
    `GET /repos/{o}/{r}/issues?labels=<report>&state=all` (conditional, every page) and
    `GET /repos/{o}/{r}/issues/{n}` for a report issue that listing lacks (its label taken off)."""
    login = gateway.app_login
    applications: list[tuple[ApplicationRow, Issue, Sequence[Comment]]] = []
    for issue, comments in read_applications(gateway, repo, rules):
        applications.append((application_row(issue, comments, rules, today, login, seal_key, seal_previous), issue,
                             comments))
    wanted = {int(ref) for row, _, _ in applications if row.sealed and row.record and row.record.funded
              for r in row.record.reports if r.review == "accepted"
              for kind, _, ref in [r.ref.partition(":")] if kind == "issue" and ref.isdigit()}
    reports: dict[int, Issue] = {}
    if wanted:
        listed = gateway.issues(repo, labels=rules.stages.labels.report.name, state="all")
        reports = {i.number: i for i in listed if i.number in wanted}
        for number in sorted(wanted - set(reports)):
            try:
                reports[number] = gateway.issue(repo, number)
            except GitHubError as err:
                if err.status not in (301, 404, 410):  # moved or gone: shown as a link; anything else stops the read
                    raise
    return showcase(repo, applications, reports, rules)


def run_showcase(ctx: Any, repo: str, out: str, *, base_url: str = "", stdout: TextIO | None = None) -> int:
    """`fundbot showcase build`: 0 when the site was written (or the fund's rules switch it off, said),
    1 when GitHub could not be read (nothing written), 2 when OUT holds something else."""
    say = stdout or sys.stdout
    now = ctx.clock()
    if ctx.seal_key is None:  # without the key no seal can be checked, and only sealed records are published
        print("fundbot: the showcase publishes sealed records only, and they are checked with a key derived from "
              "the App's private key: set GITHUB_APP_ID and GITHUB_PRIVATE_KEY", file=sys.stderr)
        return 2
    try:
        if (found := fund(ctx, repo)) is None:
            return 1
        gateway, rules = found
        if not rules.showcase:
            print(f"{repo} switches its showcase off (fund.showcase: false in {rules.source_of('fund', 'showcase')}): "
                  f"nothing built, {out} left as it is", file=say)
            return 0
        shown = read_showcase(gateway, repo, rules, now.date(), ctx.seal_key, ctx.seal_previous)
    except GitHubError as err:
        print(f"fundbot: could not read the applications of {repo}: {err}", file=sys.stderr)
        return 1
    site = render_site(shown, rules.language, now, base_url)
    try:
        write_site(site, Path(out))
    except FileExistsError as err:
        print(f"fundbot: {err}", file=sys.stderr)
        return 2
    for line in site.shown.said:
        print(line, file=say)
    grants = site.shown.grants
    print(f"built the showcase of {repo} in {out}: {len(grants)} grants of {site.shown.read} applications read, "
          f"{sum(len(g.reports) for g in grants)} accepted reports, {len(site.shown.rounds)} rounds, "
          f"{sum(1 for _ in files_in(Path(out)))} files; {len(site.shown.said)} things said above", file=say)
    return 0
