"""Reading slash commands out of a comment (SPEC §5, §11). Pure.

A command is a line that starts with `/`; lines in code blocks (fenced, also inside list items, and
`<pre>`/`<code>`), quotes and HTML comments do not count, so a quoted `> /approve` does nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# A command is `/name` at the start of a line (up to three spaces: four make a code block),
# followed by whitespace or the end of the line, so `/usr/bin` is not a command.
# (The arguments are taken greedily and stripped after: a lazy match before `[ \t]*$` is quadratic
# on a long line of spaces.)
_COMMAND_RE = re.compile(r"^ {0,3}/([A-Za-z][A-Za-z0-9-]*)(?:[ \t]+(.*))?$")

# A fence may open inside a list item (`- ```` or `1. ~~~`), its lines indented to the item: GitHub
# renders them as code too. Any indent counts, so a fence in a nested item is one as well.
_FENCE_RE = re.compile(r"^[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*(`{3,}|~{3,})")
_HTML_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# GitHub renders <pre> blocks (and <code> spans) as code: what they hold is shown, never obeyed.
_PRE_RE = re.compile(r"<(pre|code)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.DOTALL | re.IGNORECASE)
MAX_COMMANDS = 10  # carried out per comment; the rest are answered in one line (SPEC §11)
MAX_ASSIGNEES = 10  # GitHub's own limit for one issue


@dataclass(frozen=True)
class ParsedCommand:
    name: str  # lower-cased, without the slash
    args: str  # the rest of the line
    rest: str = ""  # the lines after the command (only kept for commands that take a body)


# Commands whose body is the rest of the comment (no further commands are read after them).
_TAKES_BODY = {"report"}


def _keep_lines(match: re.Match[str]) -> str:
    return "\n" * match.group(0).count("\n")  # what follows a block still starts its own line


def parse_commands(body: str | None) -> list[ParsedCommand]:
    """The commands in a comment, in order; lines in code blocks, quotes and HTML comments don't count."""
    if not body:
        return []
    text = _HTML_COMMENT_RE.sub(_keep_lines, body.replace("\r\n", "\n").replace("\r", "\n"))
    text = _PRE_RE.sub(_keep_lines, text)
    lines = text.split("\n")
    commands: list[ParsedCommand] = []
    fence: str | None = None
    for index, line in enumerate(lines):
        fence_match = _FENCE_RE.match(line)
        if fence is not None:
            if fence_match and fence_match.group(1)[0] == fence[0] and len(fence_match.group(1)) >= len(fence):
                fence = None
            continue
        if fence_match:
            fence = fence_match.group(1)
            continue
        if line.lstrip().startswith(">"):
            continue
        match = _COMMAND_RE.match(line)
        if not match:
            continue
        name = match.group(1).lower()
        if name in _TAKES_BODY:
            rest = "\n".join(lines[index + 1:]).strip()
            commands.append(ParsedCommand(name=name, args=(match.group(2) or "").strip(), rest=rest))
            break
        commands.append(ParsedCommand(name=name, args=(match.group(2) or "").strip()))
    return commands


def assign_names(args: str) -> list[str] | None:
    """The logins `/assign` names (at most MAX_ASSIGNEES), or None when they are not logins."""
    logins = list(dict.fromkeys(token.lstrip("@") for token in args.split()))
    if not logins or len(logins) > MAX_ASSIGNEES:
        return None
    if not all(re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})", login) for login in logins):
        return None
    return logins

