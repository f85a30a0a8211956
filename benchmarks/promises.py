"""The figures of SPEC §11's promises, tried the hostile way against the sandbox GitHub.

1. GitHub requests caused by a stranger's 20 KB comment (thousands of `/assign` names and unknown
   commands);
2. status comments on one application after 30 deliveries for it arrive at once, through gunicorn
   as the Procfile runs it: one web process (in-process queue), and two web processes with Redis and
   two `fundbot worker`s;
3. the longest comment the App wrote in the stateful property test (`--examples` runs of it);
4. `fundbot sweep`'s exit status, twice, with one poisoned application among 100 (GitHub refuses
   every comment on it).

    python benchmarks/promises.py [--examples 25]
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import io
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from e2e_harness import Service, Worker, free_port  # noqa: E402

from bot.demo.samples import application_body  # noqa: E402
from bot.demo.world import FUND_REPO, World, running_world  # noqa: E402
from bot.sandbox import Sandbox, SandboxServer  # noqa: E402
from bot.sandbox.keys import throwaway_app_key  # noqa: E402


def stranger_comment() -> None:
    with running_world() as world:
        world.add_applicant_repo("tiny-org/tiny-inference")
        opened = world.sandbox.open_issue(FUND_REPO, "applicant", "[Application]: Tiny", application_body(),
                                          labels=["fund: application"])
        world.deliver(opened)
        number = opened.payload["issue"]["number"]
        junk = "\n".join(["/assign " + " ".join(f"@user{i}" for i in range(60))] * 40 +
                         [f"/nope-{i} {'x' * 30}" for i in range(300)])[:20_000]
        world.sandbox.clear_log()
        world.deliver(world.sandbox.comment(FUND_REPO, number, "stan", junk))
        c = world.sandbox.request_counts()
        print(f"1. a stranger's {len(junk):,}-character comment: {c.reads + c.not_modified} reads "
              f"({c.not_modified} answered 304) and {c.writes} writes "
              f"({', '.join(sorted({f'{r.method} {r.path.split(FUND_REPO)[-1]}' for r in world.sandbox.requests()}))})")


@contextlib.contextmanager
def redis_server():
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis.from_url(f"redis://127.0.0.1:{port}/0")
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.RedisError:
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def thirty_at_once(processes: int, tmp: Path) -> int:
    key = throwaway_app_key()
    sandbox = Sandbox()
    sandbox.register_app(1, key)
    with SandboxServer(sandbox) as server, contextlib.ExitStack() as stack:
        world = World(sandbox, server.url, 1, key)
        world.add_applicant_repo("tiny-org/tiny-inference")
        env = {}
        if processes > 1:
            redis_url = stack.enter_context(redis_server())
            env = {"FUNDBOT_REDIS_URL": redis_url, "WEB_CONCURRENCY": str(processes)}
            for i in range(2):
                stack.enter_context(Worker(server.url, 1, key, redis_url, tmp / f"worker{i}.log"))
        service = stack.enter_context(Service(server.url, 1, key, tmp / f"web{processes}.log", **env))
        opened = sandbox.open_issue(FUND_REPO, "applicant", "[Application]: Tiny", application_body(),
                                    labels=["fund: application"])
        sent = [opened] + sandbox.pending_deliveries()
        edit = sandbox.edit_issue(FUND_REPO, opened.payload["issue"]["number"], "applicant",
                                  body=application_body(milestones="Ship 1.0 " * 5))
        burst = [type(d)(d.event, copy.deepcopy(d.payload)) for i in range(30) for d in [(sent + [edit])[i % 3]]]
        with ThreadPoolExecutor(max_workers=30) as pool:
            assert all(status == 202 for status, _ in pool.map(service.post, burst))
        number = opened.payload["issue"]["number"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and world.record(number) is None:
            time.sleep(0.1)
        time.sleep(2)  # let every queued delivery finish
        found = len(world.status_comments(number))
        world.close()
        return found


def longest_in_property_test(examples: int) -> int:
    from hypothesis import settings
    from hypothesis.stateful import run_state_machine_as_test

    import test_properties

    run_state_machine_as_test(test_properties.Fund, settings=settings(
        max_examples=examples, stateful_step_count=30, deadline=None))
    return test_properties.longest_written[0]


def poisoned_sweep() -> tuple[int, int]:
    from bot.cli import main as fundbot

    start = dt.datetime(2027, 1, 4, 9, tzinfo=dt.timezone.utc)
    with running_world(now=lambda: start) as world:
        world.add_applicant_repo("tiny-org/tiny-inference")
        numbers = []
        for i in range(100):
            opened = world.sandbox.open_issue(FUND_REPO, f"dev{i}", f"[Application]: P{i}", application_body(),
                                              labels=["fund: application"])
            world.deliver(opened)
            numbers.append(opened.payload["issue"]["number"])
        world.sandbox.refuse("POST", f"/repos/{FUND_REPO}/issues/{numbers[37]}/comments", 422, "Validation Failed")
        world.sandbox.travel(dt.timedelta(days=30))  # every application has stalled: each gets a reminder
        env = {"GITHUB_API_URL": world.settings.api_url, "GITHUB_APP_ID": str(world.settings.app_id),
               "GITHUB_PRIVATE_KEY": world.settings.private_key, "FUNDBOT_REPO": FUND_REPO}
        now = (start + dt.timedelta(days=30)).isoformat()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            # The sandbox's time is in the future, and this sweep must write there.
            first = fundbot(["sweep", "--now", now, "--write-in-the-future"], env)
            second = fundbot(["sweep", "--now", now, "--write-in-the-future"], env)
        return first, second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=25)
    args = parser.parse_args()
    import tempfile

    stranger_comment()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"2. status comments after 30 deliveries at once: one web process {thirty_at_once(1, Path(tmp))}, "
              f"two web processes with Redis and two workers {thirty_at_once(2, Path(tmp))}")
    print(f"3. the longest comment the App wrote in {args.examples} runs of the property test: "
          f"{longest_in_property_test(args.examples):,} characters (GitHub takes 65,536)")
    first, second = poisoned_sweep()
    print(f"4. fundbot sweep with one poisoned application among 100: exit {first}, then exit {second}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("FUNDBOT_LOG_LEVEL", "WARNING")
    sys.exit(main())
