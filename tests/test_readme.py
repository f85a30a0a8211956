"""The README and the guides stay true: the two commands are what CI runs, the stage diagram is the
rules' stages, the command tables are the registry's (in English and in Chinese), and the settings
table names every variable the code reads. The README keeps the two commands and the diagram; the
tables live in the documentation site's pages (docs/)."""
import re
from pathlib import Path

from bot.policy.commands import HELP_FIGURES, REGISTRY, ROLE_WORDS
from bot.policy.i18n import translator
from bot.policy.roles import Role

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"
COMMANDS = (DOCS / "reviewers" / "index.md").read_text(encoding="utf-8")  # every command
APPLICANTS = (DOCS / "applicants" / "index.md").read_text(encoding="utf-8")  # the applicants' commands
CHINESE = (DOCS / "applicants" / "zh.md").read_text(encoding="utf-8")  # 中文申请指南
SETTINGS = (DOCS / "operators" / "settings.md").read_text(encoding="utf-8")


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


def test_the_site_shows_the_readmes_stage_diagram():
    # One copy: the reviewers' page takes the diagram from the README (a snippet), not a copy of it.
    assert '--8<-- "README.md:stages"' in COMMANDS
    assert "<!-- --8<-- [start:stages] -->" in README and "<!-- --8<-- [end:stages] -->" in README
    section = README.split("<!-- --8<-- [start:stages] -->")[1].split("<!-- --8<-- [end:stages] -->")[0]
    assert "```mermaid" in section


COMMAND_ROW = re.compile(r"^\| `(/[^`]+)` \| ([^|]+) \| ([^|]+) \|$", re.MULTILINE)


def registry_rows() -> dict[str, tuple[str, str]]:
    return {spec.usage: (", ".join(sorted(r.value for r in spec.roles)), spec.summary % HELP_FIGURES)
            for spec in REGISTRY.values()}


def test_command_table_matches_the_registry():
    table = {usage: (who.strip(), what.strip()) for usage, who, what in COMMAND_ROW.findall(COMMANDS)}
    assert table == registry_rows()


def test_the_applicants_command_table_is_the_registrys_commands_for_applicants():
    table = {usage: (who.strip(), what.strip()) for usage, who, what in COMMAND_ROW.findall(APPLICANTS)}
    for_applicants = {Role.ANYONE, Role.APPLICANT, Role.MAINTAINER}
    rows = registry_rows()
    assert table == {spec.usage: rows[spec.usage] for spec in REGISTRY.values() if spec.roles & for_applicants}


def test_every_variable_the_code_reads_is_in_the_settings_table():
    # Every environment variable named in the product's code (the sandbox is not the product).
    names = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if "sandbox" not in path.parts:
            names |= set(re.findall(r"""["']((?:GITHUB|FUNDBOT|GUNICORN|WEB|PROMETHEUS)_[A-Z0-9_]+|HOST|PORT)["']""",
                                    path.read_text()))
    table = re.search(r"^# Settings\n(.*?)\n## ", SETTINGS, re.DOTALL | re.MULTILINE).group(1)
    documented = set(re.findall(r"^\| (`[^|]+`) \|", table, re.MULTILINE))
    documented = {name for cell in documented for name in re.findall(r"`([A-Z0-9_]+)`", cell)}
    assert names - documented == set()
    assert "GITHUB_WEBHOOK_SECRET" in names and "PORT" in names  # the search finds what it should


def test_the_chinese_command_table_says_what_the_bot_says_in_chinese():
    tr = translator("zh")
    said = {tr.gettext(spec.usage): ("、".join(tr.gettext(ROLE_WORDS[r]) for r in sorted(spec.roles, key=lambda r: r.value)),
                                     tr.gettext(spec.summary, **HELP_FIGURES)) for spec in REGISTRY.values()}
    rows = COMMAND_ROW.findall(CHINESE)
    assert rows, "the Chinese guide lists the applicants' commands"
    for usage, who, what in rows:
        assert usage in said and who.strip() == said[usage][0] and what.strip().startswith(said[usage][1]), usage
