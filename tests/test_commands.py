"""The slash-command parser and the registry: what counts as a command, and /help from the registry."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workmeter import work

from bot.policy.i18n import SOURCE, translator
from bot.policy.command_parse import parse_commands
from bot.policy.commands import REGISTRY, help_text
from bot.policy.roles import Role


@pytest.mark.parametrize(
    "body, expected",
    [
        ("/advance", [("advance", "")]),
        ("/score technical 4\n/score impact 5", [("score", "technical 4"), ("score", "impact 5")]),
        ("Looks good.\n\n/advance  \nthanks", [("advance", "")]),
        ("/ADVANCE", [("advance", "")]),
        ("   /advance", [("advance", "")]),
        ("    /advance", []),  # four spaces: an indented code block
        ("> /advance", []),
        ("  > /approve 5000", []),
        ("```\n/advance\n```", []),
        ("~~~\n/advance\n~~~\n/help", [("help", "")]),
        ("````\n```\n/advance\n```\n````", []),
        ("<!-- /advance -->", []),
        ("<!--\n/advance\n-->\n/help", [("help", "")]),
        ("please /advance", []),
        ("/usr/bin/python is broken", []),
        ("/needs-info What is the licence?", [("needs-info", "What is the licence?")]),
        ("/report\nDone: the API.\n/advance", [("report", "")]),
        ("\r\n/advance\r\n", [("advance", "")]),
        ("<pre>\n/approve 50000\n</pre>\n/help", [("help", "")]),
        ("<PRE class='x'>/approve 1\n/advance</PRE>", []),
        ("<pre>\n/approve 50000", []),  # an unclosed <pre> runs to the end, as GitHub shows it
        ("<code>/advance</code>\n/help", [("help", "")]),
        ("", []),
    ],
    ids=["one", "several", "among-text", "case", "3-spaces", "4-spaces", "quote", "indented-quote", "fence",
         "tilde-fence-then-command", "nested-fences", "html-comment", "multiline-html-comment", "mid-line", "path",
         "args", "report-takes-the-rest", "crlf", "pre-block", "pre-one-line", "pre-unclosed", "code-span",
         "empty"],
)
def test_what_counts_as_a_command(body, expected):
    assert [(c.name, c.args) for c in parse_commands(body)] == expected


def test_report_keeps_the_rest_of_the_comment():
    [report] = parse_commands("/report Q1\nShipped the plugin API.\n/advance is not a command here")
    assert report.args == "Q1"
    assert report.rest == "Shipped the plugin API.\n/advance is not a command here"


SAFE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(SAFE_TEXT, st.sampled_from(["/advance", "/approve 100", "```", "~~~", ">", "<!--",
                                                        "-->", "    /x", "/help", "\r\n"])), max_size=20))
def test_parser_never_raises(parts):
    for command in parse_commands("\n".join(parts)):
        assert command.name == command.name.lower()


@settings(max_examples=200, deadline=None)
@given(prefix=SAFE_TEXT, quoted=st.lists(st.sampled_from(sorted(REGISTRY)), min_size=1, max_size=5),
       fence=st.sampled_from(["```", "~~~", "````"]), info=st.sampled_from(["", "python", "md"]))
def test_never_a_command_inside_a_quote_or_a_code_block(prefix, quoted, fence, info):
    quote = "\n".join(f"> /{name}" for name in quoted)
    block = f"{fence}{info}\n" + "\n".join(f"/{name} 5" for name in quoted) + f"\n{fence}"
    comment = "\n".join(line for line in prefix.splitlines() if not line.lstrip().startswith(("/", "`", "~", "<")))
    assert parse_commands(f"{comment}\n{quote}\n\n{block}\n") == []


@pytest.mark.parametrize("item", ["- ", "* ", "+ ", "1. ", "2) ", "- 1. "])
@pytest.mark.parametrize("fence", ["```", "~~~"])
def test_never_a_command_inside_a_code_block_in_a_list_item(item, fence):
    """A reviewer explaining the syntax in a list: GitHub renders the fenced lines as code."""
    indent = " " * len(item)
    comment = f"How to decline:\n\n{item}{fence}\n{indent}/decline Out of scope\n{indent}{fence}\n\n/help"
    assert [c.name for c in parse_commands(comment)] == ["help"]  # the fence closed: later commands count


def test_a_long_line_of_spaces_is_read_whole():
    [command] = parse_commands("/score a" + " \t" * 200_000 + "b")
    assert command.name == "score" and command.args.endswith("b")


# Comments built to make a careless regex or scan go quadratic, each growing with `n` (benchmarks/forms.py
# times some of them at full size). A lazy `(.*?)[ \t]*$` took seconds on the first.
GROWING = [
    ("long-line-of-spaces", lambda n: "/score a" + " \t" * n + "b", 16_000),
    ("many-unknown-commands", lambda n: "\n".join(f"/nope-{i}" for i in range(n)), 4_000),
    ("unclosed-pre", lambda n: "<pre>" + "\n/advance" * n, 8_000),
    ("many-pre-blocks", lambda n: "<pre>/advance</pre>\n/help\n" * n, 4_000),
    ("unclosed-html-comments", lambda n: "<!--\n/advance\n" * n, 8_000),
    ("many-html-comments", lambda n: "<!-- x -->\n/help\n" * n, 4_000),
    ("many-quotes", lambda n: "> /advance\n" * n, 8_000),
    ("many-fences", lambda n: "```\n/advance\n```\n" * n, 4_000),
    ("unclosed-fences-in-list-items", lambda n: "- ```\n" * n, 8_000),
    ("long-report", lambda n: "/report " + "shipped it\n" * n, 8_000),
]


@pytest.mark.parametrize("build,n", [c[1:] for c in GROWING], ids=[c[0] for c in GROWING])
def test_commands_parse_in_linear_work(build, n):
    """Twice the comment, at most about twice the work: counted (`workmeter`: Python calls and loops, and
    the regex engine's steps), not timed, so a quadratic scan or regex fails here on any machine."""
    small, large = build(n // 2), build(n)
    done_small, done_large = work(parse_commands, small), work(parse_commands, large)
    assert done_large <= 2.5 * done_small, f"{len(small)} characters: {done_small} units of work; " \
                                           f"{len(large)}: {done_large}"


def test_every_command_of_the_spec_is_registered():
    # SPEC §5, and §14's governance commands
    assert set(REGISTRY) == {"help", "recheck", "withdraw", "advance", "stage", "score", "needs-info", "assign",
                             "approve", "decline", "report", "waive",
                             "recuse", "away", "back", "accept-report", "reject-report", "close-vote", "tally",
                             "evidence"}  # issue 21: the evidence read again, with the change since the application


@pytest.mark.parametrize(
    "roles, shown, hidden",
    [
        (frozenset({Role.ANYONE}), ["/help"], ["/advance", "/withdraw", "/report"]),
        (frozenset({Role.ANYONE, Role.APPLICANT}), ["/help", "/withdraw", "/recheck"], ["/advance", "/approve"]),
        (frozenset({Role.ANYONE, Role.REVIEWER}), ["/advance", "/approve", "/waive", "/recheck"], ["/withdraw"]),
        (frozenset({Role.ANYONE, Role.APPLICANT, Role.MAINTAINER}), ["/report"], ["/score"]),
    ],
    ids=["stranger", "applicant", "reviewer", "funded-maintainer"],
)
def test_help_shows_only_what_the_asker_may_use(roles, shown, hidden):
    text = help_text(roles, translator(SOURCE))
    for usage in shown:
        assert f"`{usage}" in text
    for usage in hidden:
        assert f"`{usage}" not in text
