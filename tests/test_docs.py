"""The documentation site builds, strictly and offline, exactly as .github/workflows/docs.yml builds it
for GitHub Pages: a broken link or anchor, a missing snippet, a page left out of the nav or any other
warning fails. The rules reference in it is generated from the rules' JSON schemas and names every
key they allow, with the values the package ships. The README stays a front door whose links into
docs/ lead somewhere."""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy_files import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
SCHEMAS = PROJECT_ROOT / "bot" / "config" / "schemas" / "rules"
SHIPPED = PROJECT_ROOT / "rules"
REFERENCE = "administrators/rules-reference.md"  # generated at build time, not in docs/

# Run mkdocs with every outgoing connection refused: the build must fetch nothing.
OFFLINE = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("the documentation build tried to reach the network")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = refuse
from mkdocs.__main__ import cli
sys.argv = ["mkdocs", *sys.argv[1:]]
cli()
"""


def workflow_build_command() -> list[str]:
    """The `mkdocs build` step of the Pages workflow."""
    workflow = yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / "docs.yml").read_text())
    runs = [step["run"] for job in workflow["jobs"].values() for step in job.get("steps", ()) if "run" in step]
    [build] = [shlex.split(run) for run in runs if run.startswith("mkdocs build")]
    return build


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    argv = workflow_build_command()
    assert "--strict" in argv, "the published site is built strictly"
    out = tmp_path_factory.mktemp("site")
    argv[argv.index("--site-dir") + 1] = str(out)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's notice about MkDocs 2.0, not about these docs
    build = subprocess.run([sys.executable, "-c", OFFLINE, *argv[1:]], cwd=PROJECT_ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    log = build.stdout + build.stderr
    assert build.returncode == 0, log
    assert not re.search(r"^(WARNING|ERROR)\b", log, re.MULTILINE), log
    return out


def page(site: Path, name: str) -> str:
    return (site / name.removesuffix(".md").removesuffix("index") / "index.html").read_text(encoding="utf-8")


def test_every_page_is_built_and_in_the_nav(site):
    config = yaml.load((PROJECT_ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)  # !!python tags as text
    def pages(nav) -> Iterator[str]:
        for item in nav:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            yield from (pages(value) if isinstance(value, list) else [value])
    in_nav = set(pages(config["nav"]))
    written = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert in_nav == written | {REFERENCE}
    for name in in_nav:
        assert "<h1" in page(site, name), name


def schema_keys(node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Every key a schema allows, as `a.b` (`a[].b` inside a list), written here apart from the hook."""
    for key, child in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        yield path
        yield from schema_keys(child, path)
        if isinstance(child.get("items"), Mapping):
            yield from schema_keys(child["items"], f"{path}[]")


def test_the_rules_reference_names_every_key_of_every_schema(site):
    html = page(site, REFERENCE)
    schemas = sorted(SCHEMAS.glob("*.schema.json"))
    assert len(schemas) == 6  # stages, eligibility, funding, reports, fund, evidence (issue 21)
    for path in schemas:
        schema = json.loads(path.read_text())
        keys = list(schema_keys(schema))
        keys += [key for name, definition in schema.get("$defs", {}).items() for key in schema_keys(definition, name)]
        assert keys, path.name
        missing = [key for key in keys if f"<code>{key}</code>" not in html]
        assert missing == [], f"{path.name}: not in the rules reference: {missing}"


def hooks():
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", PROJECT_ROOT / "scripts" / "mkdocs_hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shipped_values(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            yield from shipped_values(value, path)
        elif not (isinstance(value, list) and any(isinstance(v, (Mapping, list)) for v in value)):
            yield path, value


def plain(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(plain(v) for v in value) + "]"
    return str(value)


def test_the_rules_reference_shows_the_values_the_package_ships():
    sections = hooks().render().split("\n## `")[1:]
    checked = 0
    for path in sorted(SHIPPED.glob("*.yml")):
        [section] = [s for s in sections if s.startswith(path.name + "`")]
        table = section.split("\n### ")[0]  # the file's own keys; the shared types follow
        rows = {line.split("|")[1].strip().strip("`"): line for line in table.splitlines() if line.startswith("| `")}
        for key, value in shipped_values(yaml.safe_load(path.read_text())):
            if key not in rows:  # inside a shared type (a label): its keys are listed once, with that type
                parent = max((k for k in rows if key.startswith(k + ".")), key=len)
                assert "](#" in rows[parent], (path.name, key)
                continue
            assert f"`{plain(value)}`" in rows[key], (path.name, key, rows[key])
            checked += 1
    assert checked > 20


def test_the_reference_follows_a_change_of_schema(tmp_path):
    # Generated, not written: a key added to a schema is on the page the next build makes.
    for path in SCHEMAS.glob("*.schema.json"):
        (tmp_path / path.name).write_text(path.read_text())
    funding = json.loads((tmp_path / "funding.schema.json").read_text())
    funding["properties"]["grace_days"] = {"type": "integer", "minimum": 0, "description": "A new key."}
    (tmp_path / "funding.schema.json").write_text(json.dumps(funding))
    assert "| `grace_days` | integer |  |  | A new key. (at least 0) |" in hooks().render(tmp_path, SHIPPED)


def test_the_site_takes_the_readmes_diagram_and_the_changelog_as_they_are(site):
    assert 'class="mermaid"' in page(site, "reviewers/index.md")
    assert "stateDiagram-v2" in page(site, "reviewers/index.md")
    changelog = page(site, "changelog.md")
    for version in re.findall(r"^## (\d+\.\d+\.\d+)", (PROJECT_ROOT / "CHANGELOG.md").read_text(), re.MULTILINE):
        assert version in changelog


def test_the_readme_is_a_front_door_whose_links_lead_somewhere():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    targets = re.findall(r"\]\(((?:docs/|CHANGELOG)[^)#]*)", readme)
    assert len(targets) > 10
    for target in targets:
        assert (PROJECT_ROOT / target).exists(), target
    assert "mkdocs serve" in readme and ".github/workflows/docs.yml" in readme


def test_every_figure_names_a_benchmark_that_exists():
    figures = (DOCS / "figures.md").read_text(encoding="utf-8")
    commands = re.findall(r"`python (benchmarks/\w+\.py)", figures)
    assert len(commands) >= 9
    for command in commands:
        assert (PROJECT_ROOT / command).exists(), command


def test_the_site_publishes_the_fund_files_schema_where_the_example_points_editors(site):
    # The example's `# yaml-language-server: $schema=…` URL is the Pages site's; the built site has the
    # schema at that path, as the package generates it (one source: the rules' schemas).
    from bot.config.fund_schema import SCHEMA_SITE_PATH, SCHEMA_URL, fund_file_schema

    assert SCHEMA_URL.endswith("/" + SCHEMA_SITE_PATH)
    assert json.loads((site / SCHEMA_SITE_PATH).read_text(encoding="utf-8")) == fund_file_schema()
    many_funds = page(site, "administrators/many-funds.md")
    assert "yaml-language-server" in many_funds and SCHEMA_URL in many_funds  # the example, taken in whole
