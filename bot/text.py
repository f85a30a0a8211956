"""Escaping user text the bot repeats, so it cannot mention people, inject HTML or break markdown.

GitHub renders comments as GitHub Flavored Markdown with a sanitised subset of HTML; a repeated
`@name` would notify that person and a repeated `#12` would cross-link another issue, so both get
a zero-width joiner after the sign (rendered invisibly, no longer a mention or a reference).
"""
from __future__ import annotations

import html
import re

_ZW = "\u2060"  # WORD JOINER: invisible, and it breaks GitHub's @mention / #ref autolinking
_MENTION_RE = re.compile(r"([@#])(?=[\w-])")
_MARKDOWN_INLINE_RE = re.compile(r"([\\`*_\[\]|~<>])")


def _neutralise_links(text: str) -> str:
    return _MENTION_RE.sub(lambda m: m.group(1) + _ZW, text)


def escape_inline(text: str, limit: int = 300) -> str:
    """For a table cell or a line: one line, markdown and HTML characters escaped, no mentions."""
    one_line = " ".join(text.split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    escaped = _MARKDOWN_INLINE_RE.sub(r"\\\1", html.unescape(one_line))
    escaped = escaped.replace("&", "&amp;")
    return _neutralise_links(escaped)


def escape_block(text: str, limit: int = 2000) -> str:
    """For a quoted paragraph: each line quoted with `>`, HTML escaped, no mentions."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    lines = html.escape(text, quote=False).replace("\r\n", "\n").split("\n")
    return "\n".join("> " + _neutralise_links(line) for line in lines)
