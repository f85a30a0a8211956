"""The showcase for a fund of N grants (default 1,000): the weight of its index page, and how long the
build takes.

The sandbox GitHub is seeded with N funded applications as the bot leaves them — each with the App's
status comment holding a sealed record (a grant in two tranches, the second released on an accepted
`/report` comment) and the report comment itself — with no delivery (seeding through the pipeline would
measure the pipeline). Then `fundbot showcase build`'s own function (`run_showcase`) reads them over
HTTP from the sandbox on 127.0.0.1, renders every page in both languages, the feeds and grants.json, and
writes them. Printed: the build's time (with the part spent rendering and writing apart), GitHub requests,
and the index page's weight — its HTML and the one stylesheet it loads, nothing else — in each language.
The issue's targets: an index under 300 KB, a build under 10 s (figures, not assertions: the tests never
assert on time).

    python benchmarks/showcase.py [--grants 1000]
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import io
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories import application_body  # noqa: E402

from bot.demo.world import FUND_REPO, running_world  # noqa: E402
from bot.policy.ledger import grant, release_tranche  # noqa: E402
from bot.policy.markers import STATUS_MARKER, record_block  # noqa: E402
from bot.policy.record import CheckResult, Note, Record, ReportEntry  # noqa: E402
from bot.policy.seal import record_key, seal  # noqa: E402
from bot.sandbox.keys import throwaway_app_key  # noqa: E402
from bot.views.showcase_build import read_showcase, run_showcase  # noqa: E402
from bot.views.showcase_site import render_site, write_site  # noqa: E402

REPORT = "/report " + "We shipped the plugin API and the ARM test farm, and two releases with new contributors. " * 4


def seed(world, n: int, key: bytes) -> None:
    sb = world.sandbox
    rules = world.rules
    login = world.app_login
    start = sb.now()
    for i in range(n):
        project = f"Project {i:04d}: a library for reproducible builds"
        number = sb.add_issue(FUND_REPO, f"applicant{i}", f"[Application]: {project}",
                              application_body(project_name=project),
                              labels=["fund: application", "status: funded"])
        report_id = sb.add_comment(FUND_REPO, number, f"applicant{i}", REPORT)
        record = Record(stage="decision", round=rules.funding.rounds[0].name, repository=f"org-{i:04d}/project-{i:04d}",
                        checks=(CheckResult("licence", True, Note("licence.detected", {"licence": "Apache-2.0"})),))
        decided = start + dt.timedelta(minutes=i)
        record = grant(record, Decimal(10000 + i), (Decimal(50), Decimal(50)), rules, decided, "rita")
        entry = ReportEntry(at=decided + dt.timedelta(days=90), by=f"applicant{i}", ref=f"comment:{report_id}",
                            review="accepted", reviewed_by="ravi", reviewed_at=decided + dt.timedelta(days=91))
        record = dataclasses.replace(record, reports=(entry,))
        record = release_tranche(record, rules, entry.reviewed_at, "ravi", entry.ref)
        block = record_block(record, seal=lambda payload, number=number: seal(key, FUND_REPO, number, payload))
        sb.add_comment(FUND_REPO, number, login, f"{STATUS_MARKER}\nFunded.\n{block}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grants", type=int, default=1000)
    args = parser.parse_args()
    app_key = throwaway_app_key()
    with running_world(app_key=app_key) as world, tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        seed(world, args.grants, record_key(app_key))
        print(f"seeded {args.grants:,} grants in {time.perf_counter() - started:.1f} s (not part of the build)")
        out = Path(folder) / "site"
        world.sandbox.clear_log()
        said = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(said):
            assert run_showcase(world.context, FUND_REPO, str(out)) == 0
        build = time.perf_counter() - started
        counts = world.sandbox.request_counts()
        # The same build's rendering and writing apart from its reading (read once more, every read a 304).
        shown = read_showcase(world.github.for_repository(FUND_REPO), FUND_REPO, world.rules, world.sandbox.now().date(),
                              record_key(app_key))
        started = time.perf_counter()
        site = render_site(shown, world.rules.language, world.sandbox.now())
        write_site(site, Path(folder) / "again")
        rendering = time.perf_counter() - started
        assert len(site.shown.grants) == args.grants, said.getvalue()
        css = (out / "site.css").stat().st_size
        files = sum(1 for p in out.rglob("*") if p.is_file())
        print(f"build (fundbot showcase build): {build:.2f} s for {args.grants:,} grants, of which rendering and "
              f"writing (timed again apart) {rendering:.2f} s and the rest reading the sandbox GitHub; {files:,} files; "
              f"GitHub requests {counts}")
        for code in ("en", "zh"):
            html = (out / code / "index.html").stat().st_size
            print(f"index page weight ({code}): {(html + css) / 1024:.1f} KB = HTML {html / 1024:.1f} KB + site.css "
                  f"{css / 1024:.1f} KB (no script, no image, no font)")
        print(f"grants.json: {(out / 'grants.json').stat().st_size / 1024:.0f} KB; each feed: the newest 50 items")


if __name__ == "__main__":
    main()
