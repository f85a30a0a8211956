"""The configuration-problem issue: what the bot says when a fund's configuration is invalid. Pure.

A fund's `.github/fund-bot.yml` (or its issue forms) with a mistake is never used, and the bot never
falls back silently (SPEC §13): it keeps exactly one issue open in the fund's repository that lists
every problem — file, key, reason — and says what the bot does meanwhile; it updates the issue as
the file changes and closes it, saying so, once the file is fixed.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from bot.policy.fundstate import FundRead, fund_state_write
from bot.policy.i18n import N_, Translator, translator
from bot.policy.markers import CONFIG_ISSUE_MARKER
from bot.policy.models import Issue, UpsertIssue
from bot.policy.rules import Rules
from bot.policy.text import escape_inline

CONFIG_ISSUE_TITLE = N_("Fund Bot: the fund's configuration has problems")  # found again by its marker
SHOW_PROBLEMS = 100


def render_problems(problems: Sequence[str], acting_on_last_valid: bool, tr: Translator) -> str:
    """The issue's body while the configuration is invalid, in the fund's language (the problems
    themselves are the rules' own lines: file, key, reason)."""
    rows = ["| " + " | ".join((tr.gettext("File"), tr.gettext("Key"), tr.gettext("Problem"))) + " |", "|---|---|---|"]
    for line in problems[:SHOW_PROBLEMS]:
        file, key, reason = _split(line)
        rows.append(f"| {escape_inline(file, 200)} | {escape_inline(key, 200)} | {escape_inline(reason, 500)} |")
    more = "\n\n" + tr.ngettext("… and %(n)s more.", "… and %(n)s more.", len(problems) - SHOW_PROBLEMS) \
        if len(problems) > SHOW_PROBLEMS else ""
    meanwhile = tr.gettext("Until it is fixed, Fund Bot keeps acting by the last valid configuration of this "
                           "repository.") if acting_on_last_valid else \
        tr.gettext("This repository never had a valid configuration, so Fund Bot does nothing here until it is fixed.")
    count = tr.ngettext("%(n)s problem in `.github/fund-bot.yml` or the issue forms:",
                        "%(n)s problems in `.github/fund-bot.yml` or the issue forms:", len(problems))
    after = tr.gettext("Fund Bot updates this issue when the files change, and closes it when they are valid. "
                       "`fundbot validate --repo OWNER/NAME` lists the same problems.")
    title = tr.gettext("Fund Bot cannot use this fund's configuration")
    return (f"{CONFIG_ISSUE_MARKER}\n\n## {title}\n\n{count}\n\n" + "\n".join(rows) + more + f"\n\n{tr.sentences(meanwhile, after)}\n")


def render_fixed(tr: Translator) -> str:
    """The issue's body once the configuration is valid again (then it is closed)."""
    return (f"{CONFIG_ISSUE_MARKER}\n\n## " + tr.gettext("Fixed") + "\n\n"
            + tr.gettext("The fund's configuration is valid again, and Fund Bot acts by it. This issue is closed; "
                         "Fund Bot opens it again if a later change has a problem.") + "\n")


def _split(line: str) -> tuple[str, str, str]:
    """`file: key: reason` (as the rules report problems) into its three parts."""
    file, _, rest = line.partition(": ")
    key, _, reason = rest.partition(": ")
    if not reason:
        return file, "", key
    return file, key, reason


def config_issue_write(problems: Sequence[str], acting_on_last_valid: bool, found: Issue | None,
                       rules: Rules) -> UpsertIssue | None:
    """The configuration issue as it should be (None: it is so already): open, listing every problem,
    while the configuration is invalid; closed, saying it is fixed, once it is valid. `rules` are those
    the bot acts by (the last valid configuration's, else the server's): they give its language."""
    tr = translator(rules.language)
    title = tr.gettext(CONFIG_ISSUE_TITLE)
    if problems:
        body = render_problems(problems, acting_on_last_valid=acting_on_last_valid, tr=tr)
        if found is None:
            return UpsertIssue(CONFIG_ISSUE_MARKER, title, body, None, labels=(rules.stages.labels.bot.name,))
        if found.body != body or found.state != "open":
            return UpsertIssue(CONFIG_ISSUE_MARKER, title, body, found.number, state="open")
        return None
    if found is not None and found.state == "open":
        return UpsertIssue(CONFIG_ISSUE_MARKER, title, render_fixed(tr), found.number, state="closed",
                           state_reason="completed")
    return None


def valid_config_write(fund: FundRead, shas: Mapping[str, str], repo: str, rules: Rules,
                       key: bytes | None) -> UpsertIssue | None:
    """The valid configuration's blob shas recorded in the fund-state issue (once per change), so that a
    later invalid file, even after a restart, leaves the bot acting by it."""
    if dict(fund.state.config) == dict(shas):
        return None
    return fund_state_write(fund, dataclasses.replace(fund.state, config=dict(shas)), repo, rules, key)
