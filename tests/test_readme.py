"""The README stays true: the two commands are what CI runs, the stage diagram is the rules'
stages, and the command table is the registry's."""
import re
from pathlib import Path

from bot.policy.commands import HELP_FIGURES, REGISTRY, ROLE_WORDS
from bot.policy.i18n import translator

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_exactly_the_readme_commands():
    first_block = re.search(r"## Install and test.*?```sh\n(.*?)```", README, re.DOTALL).group(1).strip().splitlines()
    install, test = first_block
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"python -m {install}" in ci or install in ci
    assert ci.rstrip().splitlines()[-1] == test  # the last thing CI does is the README's test command


def test_stage_diagram_matches_the_rules(rules):
    diagram = re.search(r"```mermaid\n(.*?)```", README, re.DOTALL).group(1)
    edges = set(re.findall(r"^\s*(\S+) --> (\w+)", diagram, re.MULTILINE))
    stages = rules.stages
    expected = {("[*]", stages.first.name)}
    expected |= {(s.name, n) for s in stages.stages for n in s.next}
    expected |= {(s.name, "funded") for s in stages.stages if s.decides}
    expected |= {("review", "declined"), ("review", "withdrawn")}
    assert edges == expected
    inside = re.search(r"state review \{(.*?)\}", diagram, re.DOTALL).group(1)
    assert {a for a, _ in re.findall(r"(\w+) --> (\w+)", inside)} == {s.name for s in stages.stages}


COMMAND_ROW = re.compile(r"^\| `(/[^`]+)` \| ([^|]+) \| ([^|]+) \|$", re.MULTILINE)
ENGLISH, _, CHINESE = README.partition("## 中文申请指南")


def test_command_table_matches_the_registry():
    table = {usage: (who.strip(), what.strip()) for usage, who, what in COMMAND_ROW.findall(ENGLISH)}
    assert table == {spec.usage: (", ".join(sorted(r.value for r in spec.roles)), spec.summary % HELP_FIGURES)
                     for spec in REGISTRY.values()}


def test_every_variable_the_code_reads_is_in_the_settings_table():
    # Every environment variable named in the product's code (the sandbox is not the product).
    names = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if "sandbox" not in path.parts:
            names |= set(re.findall(r"""["']((?:GITHUB|FUNDBOT|GUNICORN|WEB|PROMETHEUS)_[A-Z0-9_]+|HOST|PORT)["']""",
                                    path.read_text()))
    table = re.search(r"### Settings\n(.*?)\n###", README, re.DOTALL).group(1)
    documented = set(re.findall(r"^\| (`[^|]+`) \|", table, re.MULTILINE))
    documented = {name for cell in documented for name in re.findall(r"`([A-Z0-9_]+)`", cell)}
    assert names - documented == set()
    assert "GITHUB_WEBHOOK_SECRET" in names and "PORT" in names  # the search finds what it should


def test_the_chinese_command_table_says_what_the_bot_says_in_chinese():
    tr = translator("zh")
    said = {tr.gettext(spec.usage): ("、".join(tr.gettext(ROLE_WORDS[r]) for r in sorted(spec.roles, key=lambda r: r.value)),
                                     tr.gettext(spec.summary, **HELP_FIGURES)) for spec in REGISTRY.values()}
    rows = COMMAND_ROW.findall(CHINESE.split("\n## ")[0])
    assert rows, "the Chinese section lists the applicants' commands"
    for usage, who, what in rows:
        assert usage in said and who.strip() == said[usage][0] and what.strip().startswith(said[usage][1]), usage
