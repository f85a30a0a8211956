"""What the evidence pack finds about the demo's applicant repository (issue 21), seeded on the sandbox: the
community files, a year of stars, releases, outside people's issues and pull requests with their answers, an
OpenSSF Scorecard result and a PyPI package with dependents and downloads — and, for the progress report,
the project grown since (`grow`), so the report's reply shows a change. Used by `fundbot demo` and the tests."""
from __future__ import annotations

import datetime as dt

from bot.sandbox import Sandbox

PACKAGE = "tiny-inference"
VERSION = "1.2.0"


def seed(sandbox: Sandbox, repo: str) -> None:
    """The repository as the fund finds it at application."""
    now = sandbox.now()
    for path, text in (("README.md", "# Tiny Inference\n"), ("CONTRIBUTING.md", "How to help.\n"),
                       ("CODE_OF_CONDUCT.md", "Be kind.\n"), ("SECURITY.md", "Report privately.\n"),
                       ("pyproject.toml", f'[project]\nname = "{PACKAGE}"\nversion = "{VERSION}"\n')):
        sandbox.add_file(repo, path, text)
    sandbox.add_stars(repo, [(f"fan{i}", now - dt.timedelta(days=360 - 2 * i)) for i in range(180)])
    for days, tag in ((300, "v1.0.0"), (150, "v1.1.0"), (20, VERSION)):
        sandbox.add_release(repo, tag, now - dt.timedelta(days=days))
    for i, (hours, pull) in enumerate(((5, False), (30, True), (3, False), (50, True))):
        opened = now - dt.timedelta(days=40 - 8 * i)
        sandbox.add_thread(repo, f"user{i}", opened, pull_request=pull, answers=[("dev0", opened + dt.timedelta(hours=hours))],
                           merged_at=opened + dt.timedelta(days=2) if pull else None)
    sandbox.score_project(repo, 6.1, {"Maintained": 10, "Code-Review": 6})
    sandbox.add_package("pypi", PACKAGE, version=VERSION, dependents=48, direct=11, month=5200)


def grow(sandbox: Sandbox, repo: str) -> None:
    """The project a few months into the grant: more stars, a release, more dependents and downloads."""
    now = sandbox.now()
    for i, who in enumerate(("dev1", "dev2", "dev3", "dev1")):
        sandbox.commit_file(repo, f"docs/notes-{i}.md", "What changed.\n", who, "Notes")  # its push is not delivered
    sandbox.add_stars(repo, [(f"new-fan{i}", now - dt.timedelta(days=i)) for i in range(45)])
    sandbox.add_release(repo, "v1.3.0", now - dt.timedelta(days=5))
    sandbox.score_project(repo, 6.8, {"Maintained": 10, "Code-Review": 8})
    sandbox.add_package("pypi", PACKAGE, version=VERSION, dependents=63, direct=15, month=8100)
