"""An application filed where Fund Bot is installed but no fund is served: never ignored in silence.

The App may be installed on a repository the deployment does not serve — it has no `.github/fund-bot.yml`
yet, or `FUNDBOT_REPO` names another repository (SPEC §13). An issue labelled as an application there gets
one short answer saying why it is not checked and how to make the repository a fund: once per issue (a
notice key, looked for under the issue's lock), only when it is filed or reopened or the application
label is put on (never on an edit), never for an issue without the label, never to a bot. Pure: the
caller reads the issue and its comments under the lock and carries the answer out.
"""
from __future__ import annotations

import enum

from bot.policy.i18n import translator
from bot.policy.markers import NoticeKey
from bot.policy.models import Issue, PostComment
from bot.policy.rules import FUND_FILE, Rules


class NotAFund(enum.Enum):
    """Why a repository the App is installed on is not served."""

    NO_FILE = "no-file"  # no `.github/fund-bot.yml` (and no FUNDBOT_REPO naming it)
    OTHER_REPO = "other-repo"  # FUNDBOT_REPO names another repository
    NEVER_VALID = "never-valid"  # its file has problems, and it never had a valid one (the configuration issue says)


def answer(issue: Issue, why: NotAFund, posted: frozenset[str], rules: Rules) -> tuple[PostComment, ...]:
    """The answer to `issue` (as read under its lock) in a repository that is not a fund, or none: it
    must be an open issue with the application label (`rules` are the server's), filed by a person, and
    not answered before (`posted`: the App's notice keys on it)."""
    key = NoticeKey.not_a_fund()
    if (why is NotAFund.NEVER_VALID or key in posted or issue.state != "open" or issue.user.is_bot
            or issue.is_pull_request or not issue.has_label(rules.stages.labels.application.name)):
        return ()
    tr = translator(rules.language)
    if why is NotAFund.OTHER_REPO:
        body = tr.gettext("Fund Bot is installed on this repository, but the deployment that answers for it serves "
                          "one other repository only (its `FUNDBOT_REPO` setting), so this application is not "
                          "checked here. Its administrator can serve this repository too by unsetting "
                          "`FUNDBOT_REPO`: every repository with a `%(file)s` is then a fund.", file=FUND_FILE)
    else:
        body = tr.gettext("Fund Bot is installed on this repository, but it is not a fund yet, so this application "
                          "is not checked. To make it one, a maintainer adds the file `%(file)s` to the default "
                          "branch — an empty file will do: the fund then runs by the server's rules. The next "
                          "sweep then checks this application; an edit has it checked at once.", file=FUND_FILE)
    return (PostComment(key=key, body=body),)
