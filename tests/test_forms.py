"""Tests for the issue forms (bot.policy.form_template, answers, parsed_form, form_body, form_render;
bot.config.forms). The golden fixture folders (tests/fixtures/forms/<case>/{body.md, expected.json}) pin
whole parses. The tables pin the answer validators and the template errors. Hypothesis checks that
parsing never raises and that a rendered form reads back."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workmeter import work

from bot.config.forms import FormTemplateError, load_template
from bot.config.settings import DEFAULT_TEMPLATES_DIR
from bot.policy.answers import (
    VALIDATORS,
    AnswerError,
    RepoRef,
    parse_amount,
    parse_handles,
    parse_issue_number,
    parse_repository,
)
from bot.policy.form_body import parse_form
from bot.policy.form_render import render_form
from bot.policy.form_template import NO_RESPONSE, FieldType, FormTemplate
from bot.policy.parsed_form import ParsedForm

TEMPLATES = DEFAULT_TEMPLATES_DIR
FIXTURES = Path(__file__).parent / "fixtures" / "forms"
CASES = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


@cache
def template(name: str) -> FormTemplate:
    return load_template(TEMPLATES / name)


APPLICATION = template("application.yml")


def read_body(case: Path) -> str:
    # Bytes, not read_text(): keep CRLF exactly as the fixture has it.
    return (case / "body.md").read_bytes().decode("utf-8")


# --------------------------------------------------------------------------------------------
# Golden fixtures
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_fixture(case: Path) -> None:
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    form = template(expected.pop("template"))
    parsed = parse_form(form, read_body(case))
    assert parsed.as_json() == expected
    assert set(parsed.answers) == {f.id for f in form.fields}


def test_fixture_folders_are_whole() -> None:
    assert len(CASES) >= 14
    for case in CASES:
        assert (case / "body.md").is_file() and (case / "expected.json").is_file(), case.name


def test_crlf_fixture_really_has_crlf() -> None:
    # If this fails, git normalised the line endings: mark the fixture `-text` in .gitattributes.
    body = read_body(FIXTURES / "crlf-line-endings")
    assert body.count("\r\n") > 10
    lf = parse_form(template("application.yml"), body.replace("\r\n", "\n"))
    assert parse_form(template("application.yml"), body) == lf


def test_typed_accessors_on_a_complete_application() -> None:
    parsed = parse_form(template("application.yml"), read_body(FIXTURES / "complete-application"))
    assert parsed.complete and parsed.recognised
    assert parsed.repository == RepoRef("tiny-org", "tiny-inference")
    assert parsed.repository.full_name == "tiny-org/tiny-inference"
    assert parsed.funding_amount == Decimal("50000")
    assert parsed.maintainers == ("alice-dev", "Bob")
    assert parsed.application_number is None  # not a field of this form
    assert parsed.answers["category"] == "Developer tools and frameworks"
    assert parsed.answers["impact"] == {
        "AI accessibility": True,
        "Developer tools": True,
        "Infrastructure": False,
        "Education": False,
    }


def test_progress_report_accessor() -> None:
    parsed = parse_form(template("progress-report.yml"), read_body(FIXTURES / "progress-report"))
    assert parsed.application_number == 12
    assert parsed.repository is None and parsed.maintainers == ()


# --------------------------------------------------------------------------------------------
# Validator tables
# --------------------------------------------------------------------------------------------

REPOSITORIES = [
    ("plain", "https://github.com/octo/hello", "octo/hello"),
    ("trailing-slash", "https://github.com/octo/hello/", "octo/hello"),
    ("dot-git", "https://github.com/octo/hello.git", "octo/hello"),
    ("www", "https://www.github.com/octo/hello", "octo/hello"),
    ("angle-brackets-and-spaces", "  <https://github.com/octo/hello>  ", "octo/hello"),
    ("http", "http://github.com/octo/hello", "octo/hello"),
    ("no-scheme", "github.com/octo/hello", "octo/hello"),
    ("readme-fragment", "https://github.com/octo/hello#readme", "octo/hello"),
    ("query", "https://github.com/octo/hello?tab=readme-ov-file", "octo/hello"),
    ("case-kept", "https://GitHub.com/Octo/Hello.World", "Octo/Hello.World"),
    ("dots-and-dashes", "https://github.com/my-org/my_repo.js", "my-org/my_repo.js"),
    ("other-host", "gitlab.com/x/y", "is not a GitHub repository address"),
    ("lookalike-host", "https://github.com.evil.example/octo/hello", "is not a GitHub"),
    ("bare-owner-repo", "octo/hello", "is not a GitHub repository address"),
    ("owner-only", "https://github.com/octo", "is not a GitHub repository address"),
    ("site-page", "https://github.com/orgs/octo", "is not a GitHub repository address"),
    ("bad-owner", "https://github.com/-octo/hello", "is not a GitHub repository address"),
    ("dot-repo", "https://github.com/octo/..", "is not a GitHub repository address"),
    ("ssh", "git@github.com:octo/hello.git", "is not a GitHub repository address"),
    ("tree", "https://github.com/octo/hello/tree/main", "give the repository's own address, https://github.com/octo/hello."),
    ("issue", "https://github.com/octo/hello/issues/3", "points inside a repository"),
    ("pull", "https://github.com/octo/hello/pull/4", "points inside a repository"),
    ("words", "my repo", "is not a GitHub repository address"),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in REPOSITORIES], ids=[c[0] for c in REPOSITORIES])
def test_parse_repository(text: str, expected: str) -> None:
    if "/" in expected and " " not in expected:
        assert parse_repository(text).full_name == expected
    else:
        with pytest.raises(AnswerError, match=expected.replace(".", r"\.")):
            parse_repository(text)


AMOUNTS = [
    ("digits", "50000", Decimal("50000")),
    ("thousands-commas", "50,000", Decimal("50000")),
    ("dollar-sign", "$50,000", Decimal("50000")),
    ("usd-after", "50000 USD", Decimal("50000")),
    ("usd-before-with-cents", "USD 50,000.50", Decimal("50000.50")),
    ("us-dollar-sign", "US$ 1,250,000", Decimal("1250000")),
    ("dollars-word", "50000 dollars", Decimal("50000")),
    ("chinese-yuan-word-for-usd", "50000美元", Decimal("50000")),
    ("full-width-digits", "５００００", Decimal("50000")),
    ("one-decimal", "99.5", Decimal("99.5")),
    ("surrounding-space", "  $50000  ", Decimal("50000")),
    ("zero", "0", "not more than zero"),
    ("zero-cents", "$0.00", "not more than zero"),
    ("negative", "-5", "not more than zero"),
    ("negative-dollars", "-$5", "not more than zero"),
    ("words", "fifty thousand", "not an amount in US dollars"),
    ("shorthand-k", "50k", "not an amount in US dollars"),
    ("shorthand-m", "1.5m", "not an amount in US dollars"),
    ("euro", "€50,000", "not an amount in US dollars"),
    ("european-grouping", "50.000", "not an amount in US dollars"),
    ("bad-grouping", "5,0000", "not an amount in US dollars"),
    ("three-decimals", "10.505", "not an amount in US dollars"),
    ("space-grouping", "50 000", Decimal("50000")),
    ("no-break-space-grouping", "$50\u00a0000", Decimal("50000")),
    ("mixed-grouping", "50,000 000", "not an amount in US dollars"),
    ("range", "40000-50000", "not an amount in US dollars"),
    ("empty", "", "not an amount in US dollars"),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in AMOUNTS], ids=[c[0] for c in AMOUNTS])
def test_parse_amount(text: str, expected: Decimal | str) -> None:
    if isinstance(expected, Decimal):
        amount = parse_amount(text)
        assert amount == expected and str(amount) == str(expected)
    else:
        with pytest.raises(AnswerError, match=expected):
            parse_amount(text)


HANDLES = [
    ("comma-separated", "@alice, @bob", ("alice", "bob")),
    ("one-per-line", "@alice\n@bob\n", ("alice", "bob")),
    ("without-at", "alice bob", ("alice", "bob")),
    ("markdown-list", "- @alice\n* bob\n1. carol", ("alice", "bob", "carol")),
    ("profile-links", "https://github.com/alice/, github.com/Bob", ("alice", "Bob")),
    ("and-between", "@alice and @bob", ("alice", "bob")),
    ("repeat-ignoring-case", "@Alice, @alice", ("Alice",)),
    ("chinese-punctuation", "@alice，@bob、@carol", ("alice", "bob", "carol")),
    ("semicolons", "alice;bob", ("alice", "bob")),
    ("hyphens", "a-b-c, x1", ("a-b-c", "x1")),
    ("longest-login", "a" * 39, ("a" * 39,)),
    ("empty", "", ()),
    ("underscore", "@bob_smith", "“@bob_smith” is not a GitHub username"),
    ("leading-hyphen", "-alice", "is not a GitHub username"),
    ("double-hyphen", "al--ice", "is not a GitHub username"),
    ("too-long", "a" * 40, "is not a GitHub username"),
    ("annotation", "@alice (lead), @b_", "“\\(lead\\)”, “@b_” are not GitHub usernames"),
    ("email", "alice@example.com", "is not a GitHub username"),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in HANDLES], ids=[c[0] for c in HANDLES])
def test_parse_handles(text: str, expected: tuple[str, ...] | str) -> None:
    if isinstance(expected, tuple):
        assert parse_handles(text) == expected
    else:
        with pytest.raises(AnswerError, match=expected):
            parse_handles(text)


ISSUE_REFERENCES = [
    ("hash", "#123", 123),
    ("bare-number", "123", 123),
    ("hash-space", "# 7", 7),
    ("issue-url", "https://github.com/fund/apps/issues/42", 42),
    ("issue-url-comment-anchor", "https://github.com/fund/apps/issues/42#issuecomment-1", 42),
    ("zero", "#0", None),
    ("pull-url", "https://github.com/fund/apps/pull/42", None),
    ("cross-repo-shorthand", "fund/apps#42", None),
    ("words", "my application", None),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in ISSUE_REFERENCES], ids=[c[0] for c in ISSUE_REFERENCES])
def test_parse_issue_number(text: str, expected: int | None) -> None:
    if expected is not None:
        assert parse_issue_number(text) == expected
    else:
        with pytest.raises(AnswerError, match="is not an application issue number like #123"):
            parse_issue_number(text)


def test_long_answers_are_cut_short_in_messages() -> None:
    with pytest.raises(AnswerError) as caught:
        parse_repository("x" * 500)
    assert len(str(caught.value)) < 200 and "…" in str(caught.value)


# --------------------------------------------------------------------------------------------
# Parser details the fixtures do not pin
# --------------------------------------------------------------------------------------------


@pytest.fixture
def small_template(tmp_path: Path) -> FormTemplate:
    """A form with a rendered textarea and a multi-select dropdown, which the fund's forms lack."""
    path = tmp_path / "small.yml"
    path.write_text(
        """
name: Small
description: A form with the field kinds the fund's forms do not use.
labels: "one, two"
body:
  - type: markdown
    attributes: {value: "Hello"}
  - type: textarea
    id: logs
    attributes: {label: Logs, render: shell}
  - type: dropdown
    id: platforms
    attributes:
      label: Platforms
      multiple: true
      options: ["Linux", "macOS", "Windows, 64-bit"]
  - type: input
    id: repository
    attributes: {label: Where}
""",
        encoding="utf-8",
    )
    return load_template(path)


def test_rendered_textarea_loses_its_fence(small_template: FormTemplate) -> None:
    body = "### Logs\n\n```shell\n$ make\n### not a heading\nok\n```\n\n### Platforms\n\nLinux"
    parsed = parse_form(small_template, body)
    assert parsed.answers["logs"] == "$ make\n### not a heading\nok"


def test_empty_rendered_textarea_is_no_response(small_template: FormTemplate) -> None:
    parsed = parse_form(small_template, f"### Logs\n\n{NO_RESPONSE}\n\n### Platforms\n\n{NO_RESPONSE}")
    assert parsed.answers["logs"] is None and parsed.answers["platforms"] is None


def test_multi_select_dropdown_keeps_options_with_commas(small_template: FormTemplate) -> None:
    body = "### Platforms\n\nlinux, Windows, 64-bit, BeOS"
    parsed = parse_form(small_template, body)
    assert parsed.answers["platforms"] == ("Linux", "Windows, 64-bit", "BeOS")
    assert [p.message for p in parsed.problems] == [
        "Platforms: “BeOS” is not one of the choices (“Linux”, “macOS”, “Windows, 64-bit”)."
    ]


def test_semantic_checks_follow_the_field_id_not_the_label(small_template: FormTemplate) -> None:
    parsed = parse_form(small_template, "### Where\n\nnot a url")
    assert [p.field_id for p in parsed.problems] == ["repository"]
    assert parsed.problems[0].message.startswith("Where: “not a url” is not a GitHub repository")


def test_template_fields(small_template: FormTemplate) -> None:
    assert small_template.labels == ("one", "two")
    assert [f.id for f in small_template.fields] == ["logs", "platforms", "repository"]
    logs = small_template.field("logs")
    assert logs.type is FieldType.TEXTAREA and logs.render == "shell" and not logs.required
    assert small_template.field("platforms").multiple
    assert small_template.has_field("logs") and not small_template.has_field("nope")
    with pytest.raises(KeyError):
        small_template.field("nope")


def test_checks_apply_only_to_fields_the_template_has() -> None:
    parsed = parse_form(template("progress-report.yml"), "### Application\n\n#5")
    assert {p.field_id for p in parsed.problems} == {"progress", "use_of_funds"}
    assert set(VALIDATORS) >= {"repository", "funding_amount", "maintainers", "application"}


@pytest.mark.parametrize("body", [None, "", "   \n\r\n", 42], ids=["none", "empty", "blank", "not-text"])
def test_no_body(body: object) -> None:
    parsed = parse_form(template("application.yml"), body)  # type: ignore[arg-type]
    assert not parsed.recognised and not parsed.complete
    assert all(v is None or isinstance(v, dict) for v in parsed.answers.values())


def test_own_label_repeated_inside_its_answer_stays_text() -> None:
    form = template("progress-report.yml")
    body = "### Application\n\n#5\n\n### Application\n\nsee above\n\n### Progress against milestones\n\nok"
    parsed = parse_form(form, body)
    assert parsed.answers["application"] == "#5\n\n### Application\n\nsee above"
    assert parsed.problems_for("application")  # a problem, because that answer is not "#N"


def test_recognised_needs_half_the_headings() -> None:
    form = template("progress-report.yml")  # 5 fields: 3 headings are enough, 2 are not
    two = "### Application\n\n#1\n\n### Use of funds\n\nx"
    assert not parse_form(form, two).recognised
    assert parse_form(form, two + "\n\n### Outcomes and impact\n\ny").recognised


# Bodies built to make a careless regex or scan go quadratic: each grows with `n`, and the `n` given
# makes it about GitHub's cap of 65,536 characters (ADVERSARIAL: those bodies, which
# `python benchmarks/forms.py` times).
GROWING = [
    ("long-heading-whitespace", lambda n: "### a" + " \t" * n + "#x", 30000),
    ("long-checkbox-whitespace", lambda n: "### Agreements\n\n- [x] a" + " \t" * n + "y", 30000),
    ("unclosed-fences", lambda n: "\n".join("```a" for _ in range(n)), 20000),
    ("long-backtick-run", lambda n: "`" * n + "x`", 60000),
    ("repeated-headings", lambda n: "\n".join(f"### {f.label}" for _ in range(n) for f in reversed(APPLICATION.fields)),
     400),
    ("long-amount", lambda n: "### Funding amount (USD)\n\n5" + " " * n + "x", 60000),
    ("long-repository", lambda n: "### Repository\n\nhttps://github.com/" + "a/" * n, 30000),
    ("many-handles", lambda n: "### Maintainers\n\n" + "@a-, " * n, 12000),
    # fences that do close, each opened again at once: a scan that looks ahead for each closer rescans
    ("closed-fences", lambda n: "### Description\n\n" + "```\nx\n```\n" * n, 6000),
    ("fence-heading-mix", lambda n: "\n".join(f"~~~\n### {f.label}\n~~~\n### {f.label}\n_No response_"
                                             for _ in range(n) for f in APPLICATION.fields), 60),
]
ADVERSARIAL = [(name, build(n)) for name, build, n in GROWING]


@pytest.mark.parametrize("body", [c[1] for c in ADVERSARIAL], ids=[c[0] for c in ADVERSARIAL])
def test_adversarial_bodies_parse(body: str) -> None:
    # How fast they parse is measured by `python benchmarks/forms.py`; the test below counts the work.
    check_invariants(parse_form(APPLICATION, body), APPLICATION)


@pytest.mark.parametrize("build,n", [c[1:] for c in GROWING], ids=[c[0] for c in GROWING])
def test_adversarial_bodies_parse_in_linear_work(build, n: int) -> None:
    """Twice the body, at most about twice the work: counted (`workmeter`: Python calls and loops, and
    the regex engine's steps), not timed, so a quadratic scan or regex fails here on any machine."""
    quarter, half = build(n // 4), build(n // 2)
    small, large = work(parse_form, APPLICATION, quarter), work(parse_form, APPLICATION, half)
    assert large <= 2.5 * small, f"{len(quarter)} characters: {small} units of work; {len(half)}: {large}"


# --------------------------------------------------------------------------------------------
# Template errors
# --------------------------------------------------------------------------------------------

BROKEN_TEMPLATES = [
    ("not-yaml", "name: [unclosed", "not valid YAML"),
    ("not-a-mapping", "- a\n- b", "must be a YAML mapping"),
    ("no-name", "description: d\nbody: [{type: input, id: a, attributes: {label: A}}]", "`name`"),
    ("no-body", "name: n\ndescription: d", "`body` must be a non-empty list"),
    ("only-markdown", "name: n\nbody: [{type: markdown, attributes: {value: hi}}]", "no fields"),
    ("unknown-type", "name: n\nbody: [{type: slider, id: a, attributes: {label: A}}]", "unknown type 'slider'"),
    ("no-id", "name: n\nbody: [{type: input, attributes: {label: A}}]", "needs an `id`"),
    ("no-label", "name: n\nbody: [{type: input, id: a, attributes: {}}]", "has no `label`"),
    (
        "duplicate-id",
        "name: n\nbody: [{type: input, id: a, attributes: {label: A}}, {type: input, id: a, attributes: {label: B}}]",
        "used twice",
    ),
    (
        "duplicate-label",
        "name: n\nbody: [{type: input, id: a, attributes: {label: A}}, {type: input, id: b, attributes: {label: ' a '}}]",
        "labels must differ|must differ",
    ),
    ("dropdown-without-options", "name: n\nbody: [{type: dropdown, id: a, attributes: {label: A}}]", "needs a list of `options`"),
    ("checkbox-without-label", "name: n\nbody: [{type: checkboxes, id: a, attributes: {label: A, options: [x]}}]", "needs a `label`"),
    ("labels-not-a-list", "name: n\nlabels: {a: 1}\nbody: [{type: input, id: a, attributes: {label: A}}]", "`labels`"),
]


@pytest.mark.parametrize("text,reason", [c[1:] for c in BROKEN_TEMPLATES], ids=[c[0] for c in BROKEN_TEMPLATES])
def test_broken_template(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "form.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormTemplateError, match=reason) as caught:
        load_template(path)
    assert caught.value.path == path


def test_missing_template_file(tmp_path: Path) -> None:
    with pytest.raises(FormTemplateError, match="cannot read"):
        load_template(tmp_path / "absent.yml")


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

HEADINGS = [f"### {f.label}" for t in ("application.yml", "progress-report.yml") for f in template(t).fields]
PIECES = st.one_of(
    st.sampled_from(
        HEADINGS
        + ["```", "~~~~", "```md", "", "### ", "###", NO_RESPONSE, "- [X] Education", "- [ ] x", "#123"]
    ),
    st.sampled_from(HEADINGS).map(lambda h: h.lower() + "  ##"),
    st.text(max_size=40),
)


def check_invariants(parsed: ParsedForm, form: FormTemplate) -> None:
    assert set(parsed.answers) == {f.id for f in form.fields}
    assert parsed.complete == (not parsed.problems)
    for problem in parsed.problems:
        assert problem.field_id in parsed.answers and problem.message
    parsed.as_json()
    _ = (parsed.repository, parsed.funding_amount, parsed.maintainers, parsed.application_number)  # never raise


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(body: str) -> None:
    check_invariants(parse_form(APPLICATION, body), APPLICATION)


@settings(max_examples=150, deadline=None)
@given(st.lists(PIECES, max_size=60), st.sampled_from(["\n", "\r\n", "\r", "\n\n"]))
def test_never_raises_on_mixes_of_headings_and_text(pieces: list[str], newline: str) -> None:
    body = newline.join(pieces)
    for name in ("application.yml", "progress-report.yml"):
        check_invariants(parse_form(template(name), body), template(name))


# Answer text without the characters that change markdown structure (headings, fences, CR).
SAFE_LINE = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="#`~\u0085"),
    min_size=1,
    max_size=30,
).map(str.strip).filter(lambda s: s and s.casefold() != NO_RESPONSE.casefold())


def answers_for(form: FormTemplate) -> st.SearchStrategy[dict[str, object]]:
    per_field: dict[str, st.SearchStrategy[object]] = {}
    for field in form.fields:
        if field.type is FieldType.CHECKBOXES:
            per_field[field.id] = st.fixed_dictionaries({o: st.booleans() for o in field.options})
        elif field.type is FieldType.DROPDOWN:
            per_field[field.id] = st.one_of(st.none(), st.sampled_from(field.options))
        elif field.type is FieldType.INPUT:
            per_field[field.id] = st.one_of(st.none(), SAFE_LINE)
        else:
            per_field[field.id] = st.one_of(
                st.none(), st.lists(SAFE_LINE, min_size=1, max_size=4).map("\n\n".join)
            )
    return st.fixed_dictionaries(per_field)


@settings(max_examples=100, deadline=None)
@given(answers_for(APPLICATION))
def test_rendered_form_reads_back(answers: dict[str, object]) -> None:
    parsed = parse_form(APPLICATION, render_form(APPLICATION, answers))
    assert parsed.recognised
    assert dict(parsed.answers) == answers
