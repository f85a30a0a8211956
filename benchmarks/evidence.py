"""The evidence pack's cost (issue 21): requests, seconds, and the status comment's time with and without it.

The real service (in this process, `World`, the in-process queue) against the sandbox GitHub on loopback,
with latency on every GitHub request and on every outside service. Two funds in the same run, one with the
evidence pack switched on (the shipped rules) and one with it off (`evidence.enabled: false`); each files the
same applications — each for its own repository, seeded as `fundbot demo` seeds one (community files, a
year of stars, releases, outside issues with answers, Scorecard, a PyPI package), so no cache or ETag of an
earlier application helps — first one at a time, then as a burst of applications posted at once.

Printed per fund: the time from posting `issues.opened` to the status comment (the applicant's first answer),
and with evidence the time until the pack is in the status comment, the GitHub requests and outside requests
each pack made, and the seconds one pack took to read. Nothing is asserted: these are figures for docs/figures.md.

    python benchmarks/evidence.py [--applications 5] [--burst 10] [--latency-ms 50] [--outside-ms 150] [--workers 4]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sandbox_fixtures import OPENAPI_SUBSET  # noqa: E402

from bot.config.rules import fund_rules  # noqa: E402
from bot.demo import evidence as seeded  # noqa: E402
from bot.demo.samples import application_body  # noqa: E402
from bot.demo.world import FUND_REPO, World, running_world  # noqa: E402
from bot.policy.markers import STATUS_MARKER  # noqa: E402
from bot.sandbox import Faults  # noqa: E402

OUTSIDE = ("scorecard", "depsdev", "pypistats", "npm")


def wait_for(check, timeout: float = 60.0) -> float:
    """Seconds until `check()` is true (polling every 2 ms)."""
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise SystemExit("timed out")
        time.sleep(0.002)
    return time.perf_counter() - started


def status(world: World, number: int) -> str:
    return next((c["body"] for c in world.sandbox.comments(FUND_REPO, number) if STATUS_MARKER in c["body"]), "")


def prepare(world: World, name: str) -> str:
    repo = f"tiny-org/{name}"
    world.add_applicant_repo(repo)
    seeded.seed(world.sandbox, repo)
    return repo


def file(world: World, repo: str, user: str):
    return world.sandbox.open_issue(FUND_REPO, user, "[Application]: Tiny", application_body(
        repository=f"https://github.com/{repo}"), labels=["fund: application"])


def one_by_one(world: World, evidence: bool, count: int, tag: str) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"answer": [], "pack": [], "github": [], "outside": []}
    for i in range(count):
        repo = prepare(world, f"{tag}-{i}")
        delivery = file(world, repo, f"applicant-{tag}-{i}")
        number = int(delivery.payload["issue"]["number"])
        world.sandbox.clear_log()
        outside_before = len(world.sandbox.outside_requests())
        started = time.perf_counter()
        world.post(delivery, wait=False)
        figures["answer"].append(wait_for(lambda: bool(status(world, number))))
        if evidence:
            wait_for(lambda: "★" in status(world, number))
            figures["pack"].append(time.perf_counter() - started)
        world.runtime.queue.join(60)
        world.flush()
        record = world.record(number)
        if evidence and record is not None and record.evidence and record.evidence.latest:
            figures["github"].append(record.evidence.latest.requests)  # the pack's own (the checks' three apart)
        figures["outside"].append(len(world.sandbox.outside_requests()) - outside_before)
    return figures


def burst(world: World, count: int, tag: str) -> list[float]:
    """`count` applications posted at once: seconds from the first post to each status comment."""
    deliveries = [file(world, prepare(world, f"{tag}-burst-{i}"), f"burst-{tag}-{i}") for i in range(count)]
    started = time.perf_counter()
    for delivery in deliveries:
        world.post(delivery, wait=False)
    answered: dict[int, float] = {}
    numbers = [int(d.payload["issue"]["number"]) for d in deliveries]
    while len(answered) < count and time.perf_counter() - started < 120:
        for number in numbers:
            if number not in answered and status(world, number):
                answered[number] = time.perf_counter() - started
        time.sleep(0.002)
    world.runtime.queue.join(120)
    world.flush()
    return sorted(answered.values())


def run(evidence: bool, args: argparse.Namespace) -> tuple[dict[str, list[float]], list[float]]:
    with running_world(openapi=OPENAPI_SUBSET, workers=args.workers) as world:
        if not evidence:
            world.use_rules(fund_rules(world.rules, "evidence:\n  enabled: false\n", {}))
        world.context.sleep = lambda seconds: None
        world.sandbox.faults = Faults(latency_ms=args.latency_ms)
        for service in OUTSIDE:
            world.sandbox.trouble(service, latency_ms=args.outside_ms)
        tag = "on" if evidence else "off"
        return one_by_one(world, evidence, args.applications, tag), burst(world, args.burst, tag)


def line(name: str, values: list[float], unit: str = "s", digits: int = 3) -> str:
    if not values:
        return f"  {name:<48} —"
    return (f"  {name:<48} median {statistics.median(values):.{digits}f} {unit}, "
            f"max {max(values):.{digits}f} {unit} ({len(values)} runs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=5)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, default=50, help="on every GitHub request")
    parser.add_argument("--outside-ms", type=int, default=150, help="on every outside service's answer")
    parser.add_argument("--workers", type=int, default=4, help="the in-process queue's worker threads")
    args = parser.parse_args()
    print(f"evidence pack: {args.latency_ms} ms per GitHub request, {args.outside_ms} ms per outside answer, "
          f"{args.workers} workers, {os.cpu_count()} cores")
    for evidence in (False, True):
        single, together = run(evidence, args)
        print(f"\nevidence {'on' if evidence else 'off'}:")
        print(line("first answer (delivery -> status comment)", single["answer"]))
        if evidence:
            print(line("pack in the status comment (from the delivery)", single["pack"]))
            print(line("GitHub requests of one pack", single["github"], "requests", 0))
            print(line("outside requests", single["outside"], "requests", 0))
        print(line(f"burst of {args.burst}: first answers", together))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
