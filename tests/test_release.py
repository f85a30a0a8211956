"""Releases: `fundbot --version` says which version is installed, and CHANGELOG.md is kept by version —
its newest release is pyproject.toml's version, and what is not released yet is said to be so."""
from __future__ import annotations

import re
import tomllib
from importlib.metadata import version

import pytest

from bot.cli import main
from deploy_files import PROJECT_ROOT

CHANGELOG = (PROJECT_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
RELEASE = re.compile(r"^## (\d+\.\d+\.\d+) — (\d{4}-\d{2}-\d{2})", re.MULTILINE)


def test_version_prints_the_installed_distributions_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"fundbot {version('fund-bot')}\n"


def test_version_needs_no_settings_and_no_command(capsys, monkeypatch):
    # An operator asks it of a broken deployment too: nothing is read from the environment first.
    for name in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET", "FUNDBOT_REPO"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exit_:
        main(["--version", "sweep"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("fundbot ")


def test_the_changelogs_newest_release_is_the_projects_version():
    releases = RELEASE.findall(CHANGELOG)
    assert releases, "CHANGELOG.md has a heading `## X.Y.Z — YYYY-MM-DD` for each release"
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert releases[0][0] == project


def test_the_changelog_lists_releases_newest_first_under_what_is_unreleased():
    headings = re.findall(r"^## (.+)$", CHANGELOG, re.MULTILINE)
    assert headings[0].startswith("Unreleased"), "what is merged but not released comes first"
    releases = RELEASE.findall(CHANGELOG)
    assert len(releases) == len(headings) - 1, "every other heading is a release"
    numbers = [tuple(map(int, number.split("."))) for number, _ in releases]
    dates = [date for _, date in releases]
    assert numbers == sorted(numbers, reverse=True) and dates == sorted(dates, reverse=True)
    assert len(set(numbers)) == len(numbers)
