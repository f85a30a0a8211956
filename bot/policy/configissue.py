"""The configuration-problem issue: what the bot says when a fund's configuration is invalid. Pure.

A fund's `.github/fund-bot.yml` (or its issue forms) with a mistake is never used, and the bot never
falls back silently (SPEC §13): it keeps exactly one issue open in the fund's repository that lists
every problem — file, key, reason — and says what the bot does meanwhile; it updates the issue as
the file changes and closes it, saying so, once the file is fixed.
"""
from __future__ import annotations

from collections.abc import Sequence

from bot.policy.markers import CONFIG_ISSUE_MARKER
from bot.policy.text import escape_inline

CONFIG_ISSUE_TITLE = "Fund Bot: the fund's configuration has problems"
SHOW_PROBLEMS = 100


def render_problems(problems: Sequence[str], acting_on_last_valid: bool) -> str:
    """The issue's body while the configuration is invalid."""
    rows = ["| File | Key | Problem |", "|---|---|---|"]
    for line in problems[:SHOW_PROBLEMS]:
        file, key, reason = _split(line)
        rows.append(f"| {escape_inline(file, 200)} | {escape_inline(key, 200)} | {escape_inline(reason, 500)} |")
    more = f"\n\n… and {len(problems) - SHOW_PROBLEMS} more." if len(problems) > SHOW_PROBLEMS else ""
    meanwhile = ("Until it is fixed, Fund Bot keeps acting by the last valid configuration of this repository."
                 if acting_on_last_valid else
                 "This repository never had a valid configuration, so Fund Bot does nothing here until it is fixed.")
    return (f"{CONFIG_ISSUE_MARKER}\n\n## Fund Bot cannot use this fund's configuration\n\n"
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in `.github/fund-bot.yml` or the issue "
            f"forms:\n\n" + "\n".join(rows) + more +
            f"\n\n{meanwhile} Fund Bot updates this issue when the files change, and closes it when they are "
            "valid. `fundbot validate --repo OWNER/NAME` lists the same problems.\n")


def render_fixed() -> str:
    """The issue's body once the configuration is valid again (then it is closed)."""
    return (f"{CONFIG_ISSUE_MARKER}\n\n## Fixed\n\nThe fund's configuration is valid again, and Fund Bot acts by "
            "it. This issue is closed; Fund Bot opens it again if a later change has a problem.\n")


def _split(line: str) -> tuple[str, str, str]:
    """`file: key: reason` (as the rules report problems) into its three parts."""
    file, _, rest = line.partition(": ")
    key, _, reason = rest.partition(": ")
    if not reason:
        return file, "", key
    return file, key, reason
