"""The evidence pack in words (issue 21): the status comment's collapsible section, the reply at a progress
report or `/evidence` (the change since the application), and the figures of the eligibility checks the
rules may set on it. In the application's language; every figure says its source and when it was read, and a
figure that was not read says why — never a guess. Pure; bounded (a pack has a fixed number of lines, and
every text from outside — a package name — is escaped and shortened).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from bot.policy.evidence import COMMUNITY_FILES, THRESHOLDS, Change, delta, measure, passes
from bot.policy.evidence_pack import INDICATORS, Ask, Pack, Reading
from bot.policy.evidence_words import THRESHOLD_NAMES
from bot.policy.i18n import N_, Translator
from bot.policy.rules import EvidenceRules, Rules
from bot.policy.text import escape_inline

OK, NO, WARN = "✅", "❌", "⚠️"

# Translators: the names of the evidence pack's indicators (a column of the status comment's table).
TITLES = {
    "community": N_("Community health"),
    "commits": N_("Commits (90 days)"),
    "contributors": N_("Contributors"),
    "responsiveness": N_("First response"),
    "releases": N_("Releases"),
    "stars": N_("Stars"),
    "scorecard": N_("OpenSSF Scorecard"),
    "dependents": N_("Dependents"),
    "pypi_downloads": N_("PyPI downloads (30 days)"),
    "npm_downloads": N_("npm downloads (30 days)"),
}
SOURCE_NAMES = {"github": "GitHub", "scorecard": "OpenSSF Scorecard", "deps.dev": "deps.dev",
                "pypistats": "pypistats.org", "npm": "npm"}
FILE_NAMES = {"readme": "README", "contributing": "CONTRIBUTING", "code_of_conduct": "CODE_OF_CONDUCT",
              "license": "LICENSE", "issue_template": "ISSUE_TEMPLATE", "pull_request_template": "PULL_REQUEST_TEMPLATE",
              "security": "SECURITY"}



def day(moment: dt.datetime, tr: Translator) -> str:
    return tr.date(moment.astimezone(dt.timezone.utc).date())


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _package(detail: Mapping[str, Any]) -> str:
    return escape_inline(str(detail.get("package") or ""), 80)


# --- why a figure was not read ----------------------------------------------------------------------------


def gap_text(reading: Reading, tr: Translator) -> str:
    """Why `reading` has no figures, in words."""
    source = SOURCE_NAMES.get(reading.source, reading.source)
    d = reading.detail
    match reading.gap:
        case "off":
            return tr.gettext("switched off in the fund's rules")
        case "timeout":
            return tr.gettext("%(source)s did not answer in %(seconds)s s", source=source,
                              seconds=tr.number(float(d.get("seconds") or 0), "0.#"))
        case "error":
            return tr.gettext("%(source)s answered %(status)s", source=source, status=_int(d.get("status")))
        case "unavailable":
            return tr.gettext("GitHub did not answer")
        case "computing":
            return tr.gettext("GitHub is still computing this; it is read again at the next report or `/evidence`")
        case "too_large":
            return tr.gettext("GitHub does not compute these statistics for repositories with 10,000 commits or more")
        case "empty":
            return tr.gettext("the repository has no commits")
        case "fork":
            return tr.gettext("GitHub gives no community profile for a fork")
        case "unknown" if reading.key == "scorecard":
            return tr.gettext("OpenSSF Scorecard has no data for this project")
        case "unknown":
            return tr.gettext("%(source)s does not know the package %(package)s", source=source, package=_package(d))
        case "no_package" if reading.key == "pypi_downloads":
            return tr.gettext("no PyPI package is named on the form or declared in the repository")
        case "no_package" if reading.key == "npm_downloads":
            return tr.gettext("no npm package is named on the form or declared in the repository")
        case "no_package":
            return tr.gettext("no PyPI or npm package is named on the form or declared in the repository")
        case "no_version":
            return tr.gettext("deps.dev counts the dependents of a version, and no version of %(package)s is known "
                              "(give one on the form, like NAME@1.2.3)", package=_package(d))
        case "budget":
            return tr.gettext("not read: the pack's GitHub requests were spent")
    return reading.gap


# --- the figures of each indicator ------------------------------------------------------------------------


def _hours(hours: float, tr: Translator) -> str:
    if hours >= 48:
        days = hours / 24
        return tr.ngettext("%(n)s day", "%(n)s days", round(days), n=tr.number(days, "0.#"))
    return tr.ngettext("%(n)s hour", "%(n)s hours", round(hours), n=tr.number(hours, "0.#"))


def _community(f: Mapping[str, Any], tr: Translator) -> str:
    present = set(f.get("files") or ())
    files = " ".join(f"{FILE_NAMES[k]} {OK if k in present else NO}" for k in COMMUNITY_FILES)
    return tr.gettext("%(health)s%% healthy · %(files)s", health=tr.number(_int(f.get("health"))), files=files)


def _commits(f: Mapping[str, Any], tr: Translator) -> str:
    return tr.number(_int(f.get("count")))


def _contributors(f: Mapping[str, Any], tr: Translator) -> str:
    return tr.gettext("%(active)s active in 90 days · bus factor %(bus)s · %(total)s in all",
                      active=tr.number(_int(f.get("active"))), bus=tr.number(_int(f.get("bus_factor"))),
                      total=tr.number(_int(f.get("total"))))


def _responsiveness(f: Mapping[str, Any], tr: Translator) -> str:
    outside = _int(f.get("outside"))
    if not outside:
        return tr.gettext("no recent issues or pull requests from people outside the project")
    parts = []
    if f.get("median_hours") is not None:
        parts.append(tr.gettext("median %(time)s, %(answered)s of %(outside)s answered",
                                time=_hours(float(f["median_hours"]), tr), answered=tr.number(_int(f.get("answered"))),
                                outside=tr.number(outside)))
    else:
        parts.append(tr.ngettext("none of %(n)s answered yet", "none of %(n)s answered yet", outside))
    if _int(f.get("prs")):
        parts.append(tr.gettext("%(closed)s of %(prs)s pull requests closed (%(merged)s merged)",
                                closed=tr.number(_int(f.get("prs_closed"))), prs=tr.number(_int(f.get("prs"))),
                                merged=tr.number(_int(f.get("prs_merged")))))
    text = " · ".join(parts)
    return text + (" " + tr.gettext("(from the newest comments only)") if f.get("partial") else "")


def _releases(f: Mapping[str, Any], tr: Translator) -> str:
    count = _int(f.get("year"))
    text = tr.ngettext("%(n)s in the last year", "%(n)s in the last year", count) if not f.get("more") else \
        tr.ngettext("at least %(n)s in the last year", "at least %(n)s in the last year", count)
    if f.get("last"):
        text += " · " + tr.gettext("the last on %(date)s", date=tr.date(dt.date.fromisoformat(str(f["last"]))))
    return text


def _stars(f: Mapping[str, Any], tr: Translator) -> str:
    text = tr.number(_int(f.get("count")))
    if "gained" in f:
        gained = _int(f.get("gained"))
        text += " · " + (tr.gettext("+%(n)s in 90 days", n=tr.number(gained)) if not f.get("more")
                         else tr.gettext("at least +%(n)s in 90 days", n=tr.number(gained)))
    elif f.get("trend") == "too_many":
        text += " · " + tr.gettext("trend not read: GitHub lists at most 40,000 stargazers")
    return text


def _scorecard(f: Mapping[str, Any], tr: Translator) -> str:
    text = tr.gettext("%(score)s of 10", score=tr.number(float(f.get("score") or 0), "0.0"))
    checks = [f"{name} {tr.number(_int(f[key]))}" for key, name in (("maintained", "Maintained"), ("code_review", "Code-Review"))
              if f.get(key) is not None]
    if checks:
        text += " · " + " · ".join(checks)
    if f.get("date"):
        text += " " + tr.gettext("(scored %(date)s)", date=escape_inline(str(f["date"])[:10], 12))
    return text


def _dependents(f: Mapping[str, Any], tr: Translator) -> str:
    return tr.gettext("%(count)s (%(direct)s direct) of %(package)s %(version)s",
                      count=tr.number(_int(f.get("count"))), direct=tr.number(_int(f.get("direct"))),
                      package=_package(f), version=escape_inline(str(f.get("version") or ""), 40))


def _downloads(f: Mapping[str, Any], tr: Translator) -> str:
    return tr.gettext("%(count)s of %(package)s", count=tr.number(_int(f.get("month"))), package=_package(f))


FIGURES: dict[str, Callable[[Mapping[str, Any], Translator], str]] = {
    "community": _community, "commits": _commits, "contributors": _contributors, "responsiveness": _responsiveness,
    "releases": _releases, "stars": _stars, "scorecard": _scorecard, "dependents": _dependents,
    "pypi_downloads": _downloads, "npm_downloads": _downloads,
}


def figure_text(reading: Reading, tr: Translator) -> str:
    return FIGURES[reading.key](reading.figures, tr) if reading.ok and reading.key in FIGURES else "— " + gap_text(reading, tr)


def pack_problem(pack: Pack, tr: Translator) -> str:
    """Why nothing could be read, or "" when the repository was read."""
    repo = escape_inline(pack.repository, 140)
    match pack.gap:
        case "not_found":
            return tr.gettext("GitHub has no public repository %(repo)s: no evidence could be read.", repo=repo)
        case "private":
            return tr.gettext("%(repo)s is private: no evidence could be read.", repo=repo)
        case "":
            return ""
    return tr.gettext("GitHub answered %(status)s for %(repo)s: no evidence could be read now.",
                      status=_int(pack.detail.get("status")), repo=repo)


def note_lines(pack: Pack, tr: Translator) -> list[str]:
    words = {"archived": tr.gettext("The repository is archived (read-only)."),
             "fork": tr.gettext("The repository is a fork of %(parent)s.",
                                parent=escape_inline(str(pack.detail.get("parent") or "?"), 140)),
             "empty": tr.gettext("The repository is empty (no commits).")}
    return [f"{WARN} {words[n]}" for n in pack.notes if n in words]


def attention(pack: Pack, rules: EvidenceRules) -> tuple[tuple[str, Decimal, Decimal], ...]:
    """The attention thresholds (not eligibility checks) the pack's figures do not meet: (threshold, figure,
    limit). A figure not read is not a warning: its line already says why."""
    found = []
    for threshold in rules.thresholds:
        if threshold.eligibility:
            continue
        value = measure(pack, threshold.key)
        if value is not None and not passes(threshold.key, value, threshold.value):
            found.append((threshold.key, value, threshold.value))
    return tuple(found)


def attention_lines(pack: Pack, rules: Rules, tr: Translator) -> list[str]:
    lines = []
    for key, value, limit in attention(pack, rules.evidence):
        name = tr.gettext(THRESHOLD_NAMES[key])
        message = N_("%(name)s is %(value)s, above the fund's limit of %(limit)s") if THRESHOLDS[key][2] else \
            N_("%(name)s is %(value)s, below the fund's limit of %(limit)s")
        lines.append(f"{WARN} " + tr.gettext(message, name=name, value=tr.number(value), limit=tr.number(limit)))
    return lines


def _table(pack: Pack, tr: Translator) -> str:
    heads = (tr.gettext("Indicator"), tr.gettext("Figure"), tr.gettext("Source"))
    rows = ["| " + " | ".join(heads) + " |", "|---|---|---|"]
    order = {key: i for i, key in enumerate(INDICATORS)}
    for reading in sorted(pack.readings, key=lambda r: order.get(r.key, len(order))):
        title = tr.gettext(TITLES[reading.key]) if reading.key in TITLES else reading.key
        rows.append(f"| {title} | {figure_text(reading, tr)} | {SOURCE_NAMES.get(reading.source, reading.source)} |")
    return "\n".join(rows)


# --- the change since the application ---------------------------------------------------------------------


def _value(change_key: str, name: str, value: Any, tr: Translator) -> str:
    if value is None:
        return "—"
    if name == "median_hours":
        return _hours(float(value), tr)
    if name == "score":
        return tr.number(float(value), "0.0")
    return tr.number(value)


def _difference(change: Change, tr: Translator) -> str:
    diff = change.difference
    if diff is None:
        return "—"
    if change.name == "median_hours":
        return ("+" if diff > 0 else "−" if diff < 0 else "±") + _hours(abs(diff), tr)
    text = tr.number(abs(diff), "#,##0.#")
    return f"+{text}" if diff > 0 else f"−{text}" if diff < 0 else "±0"


def change_name(change: Change, tr: Translator) -> str:
    if change.key == "contributors":
        return tr.gettext("Active contributors (90 days)") if change.name == "active" else tr.gettext("Contributors in all")
    if change.key == "community":
        return tr.gettext("Community health (percentage)")
    if change.key == "releases":
        return tr.gettext("Releases in the last year")
    if change.key == "responsiveness":
        return tr.gettext("Median first response")
    return tr.gettext(TITLES[change.key])


def delta_table(first: Pack, latest: Pack, tr: Translator) -> str:
    changes = delta(first, latest)
    if not changes:
        return tr.gettext("Nothing could be compared: neither pack has figures.")
    heads = (tr.gettext("At application"), tr.gettext("Now"), tr.gettext("Change"))
    rows = ["| | " + " | ".join(heads) + " |", "|---|---|---|---|"]
    for change in changes:
        rows.append(f"| {change_name(change, tr)} | {_value(change.key, change.name, change.before, tr)} | "
                    f"{_value(change.key, change.name, change.after, tr)} | {_difference(change, tr)} |")
    return "\n".join(rows)


def delta_line(first: Pack, latest: Pack, tr: Translator) -> str:
    """The change since the application in one line (the status comment's summary of it)."""
    parts = [f"{change_name(c, tr)} {_difference(c, tr)}" for c in delta(first, latest) if c.difference is not None]
    return " · ".join(parts) if parts else tr.gettext("no figure to compare")


def reply_text(ask: Ask, first: Pack, latest: Pack, rules: Rules, tr: Translator) -> str:
    """The answer to a progress report or `/evidence`: the evidence now, against the application's."""
    head = tr.gettext("**Evidence at this progress report**, read on %(now)s (UTC), against the application's of "
                      "%(then)s:", now=day(latest.at, tr), then=day(first.at, tr)) if ask.kind == "report" else \
        tr.gettext("@%(login)s the evidence now, read on %(now)s (UTC), against the application's of %(then)s:",
                   login=ask.by, now=day(latest.at, tr), then=day(first.at, tr))
    problem = pack_problem(latest, tr)
    parts = [head, problem or delta_table(first, latest, tr)]
    parts += ["\n".join(note_lines(latest, tr) + attention_lines(latest, rules, tr))]
    parts.append("<sub>" + tr.gettext("Every figure, with why any is missing, is in the status comment's Evidence "
                                      "section.") + "</sub>")
    return "\n\n".join(p for p in parts if p)


# --- the status comment's section -------------------------------------------------------------------------


def headline(pack: Pack, tr: Translator) -> list[str]:
    """The pack's main figures, short (the section's summary line, the dashboard's cards): stars, Scorecard,
    dependents, downloads — those that were read."""
    parts = []
    stars, score = pack.figure("stars", "count"), pack.figure("scorecard", "score")
    if stars is not None:
        parts.append(f"★ {tr.number(_int(stars))}")
    if score is not None:
        parts.append(f"Scorecard {tr.number(float(score), '0.0')}")
    if (dependents := pack.figure("dependents", "count")) is not None:
        parts.append(tr.ngettext("%(n)s dependent", "%(n)s dependents", _int(dependents)))
    downloads = [v for k in ("pypi_downloads", "npm_downloads") if (v := pack.figure(k, "month")) is not None]
    if downloads:
        parts.append(tr.ngettext("%(n)s download a month", "%(n)s downloads a month", sum(_int(v) for v in downloads)))
    return parts


def evidence_section(first: Pack | None, latest: Pack | None, waiting: bool, rules: Rules, tr: Translator) -> str:
    """The collapsible Evidence section: being read, or the latest pack with the change since the application."""
    title = tr.gettext("Evidence")
    if latest is None:
        if not waiting:
            return ""
        being_read = tr.gettext("being read")
        return (f"<details><summary><b>{title}</b> · {being_read}</summary>\n\n"
                + tr.gettext("Usage and community health of the repository are read now, after this first answer; "
                             "they appear here within minutes.") + "\n\n</details>")
    summary = [f"<b>{title}</b>", tr.gettext("read %(date)s (UTC)", date=day(latest.at, tr))] + headline(latest, tr)
    body: list[str] = []
    problem = pack_problem(latest, tr)
    body.append(problem or _table(latest, tr))
    lines = note_lines(latest, tr) + attention_lines(latest, rules, tr)
    if lines:
        body.append("\n".join(lines))
    if first is not None and first.at != latest.at and not problem and not pack_problem(first, tr):
        body.append(tr.gettext("**Since the application** (read %(date)s): %(changes)s", date=day(first.at, tr),
                               changes=delta_line(first, latest, tr)))
    if waiting:
        body.append("<sub>" + tr.gettext("A newer reading was asked for; it appears here within minutes.") + "</sub>")
    return f"<details><summary>{' · '.join(summary)}</summary>\n\n" + "\n\n".join(body) + "\n\n</details>"


__all__ = ["TITLES", "attention", "headline", "delta_line", "delta_table", "evidence_section",
           "figure_text", "gap_text", "reply_text"]
