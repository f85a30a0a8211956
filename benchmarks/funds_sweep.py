"""Many funds' daily sweep: `fundbot sweep` with Redis queues one job per fund, the workers sweep them in parallel.

`--funds` organisations each install the App on their own fund repository (its own
`.github/fund-bot.yml`), and each fund has `--applications` applications whose deliveries were lost.
With Redis configured (Debian's redis-server, started here), `fundbot sweep` walks every installation
and queues one sweep per fund; `--workers` worker processes, exactly as the Procfile runs them, take
the sweeps against the sandbox GitHub with `--latency-ms` on every request. Two sweeps are timed:

1. repair: every application is processed (status comment, labels), as after an outage;
2. the sweep again, by fresh workers (no cached ETags), as a daily sweep finds a quiet fund: nothing
   to repair, every application read under its lock.

The repair writes a status comment and labels for every application; a sweep spaces its writes at
least a second apart in each process (GitHub's advice for bulk writes), so repair is bound by that, not
by reads. Prints the seconds of each, funds per minute, and what that rate makes of a daily sweep of 1,000
and 5,000 funds of this size with these workers (the work is I/O-bound: more workers, shorter sweep).

    python benchmarks/funds_sweep.py [--funds 60] [--applications 10] [--workers 4] [--latency-ms 100]
"""
from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from e2e_harness import Worker  # noqa: E402
from redis_fixtures import RedisServer  # noqa: E402

from bot.cli import main as fundbot  # noqa: E402
from bot.config.settings import DEFAULT_RULES_DIR  # noqa: E402
from bot.demo.samples import application_body  # noqa: E402
from bot.demo.world import World  # noqa: E402
from bot.jobs.worker import QUEUE_NAME  # noqa: E402
from bot.policy.markers import STATUS_MARKER  # noqa: E402
from bot.policy.rules import FUND_FILE  # noqa: E402
from bot.sandbox import Faults, Sandbox, SandboxServer  # noqa: E402
from bot.sandbox.keys import throwaway_app_key  # noqa: E402

APPLICANT_REPO = "tiny-org/tiny-inference"


def sweeps_running(redis) -> int:
    from rq import Queue
    from rq.registry import StartedJobRegistry

    queue = Queue(QUEUE_NAME, connection=redis)
    return queue.count + StartedJobRegistry(queue=queue).count


def timed_sweep(server: SandboxServer, sandbox: Sandbox, env: dict[str, str], redis, workers: int,
                latency_ms: int) -> tuple[int, float]:
    """`fundbot sweep` (queues one job per fund), then `workers` fresh worker processes until the queue
    is empty: the funds queued, and the seconds the workers took."""
    with redirect_stdout(io.StringIO()) as out:
        code = fundbot(["sweep"], env)
    if code != 0:
        raise SystemExit(f"fundbot sweep exited {code}:\n{out.getvalue()}")
    queued = out.getvalue().count("queued for the workers")
    sandbox.faults = Faults(latency_ms=latency_ms)
    started = time.monotonic()
    procs = [Worker(server.url, int(env["GITHUB_APP_ID"]), env["GITHUB_PRIVATE_KEY"], env["FUNDBOT_REDIS_URL"],
                    Path(os.environ.get("FUNDS_SWEEP_LOG", os.devnull)), FUNDBOT_REPO=None,
                    FUNDBOT_LOG_LEVEL=os.environ.get("FUNDS_SWEEP_LOG_LEVEL", "WARNING")).start() for _ in range(workers)]
    try:
        while sweeps_running(redis):
            time.sleep(0.2)
        return queued, time.monotonic() - started
    finally:
        for proc in procs:
            proc.stop()
        sandbox.faults = Faults()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--funds", type=int, default=60)
    parser.add_argument("--applications", type=int, default=10, help="per fund")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args()
    import redis as redis_py

    redis_server = RedisServer(Path(tempfile.mkdtemp())).start()
    key = throwaway_app_key()
    sandbox = Sandbox()
    sandbox.register_app(1, key)
    fund_file = yaml.safe_dump({"eligibility": yaml.safe_load((DEFAULT_RULES_DIR / "eligibility.yml").read_text())})
    print(f"{args.funds} funds in {args.funds} installations, {args.applications} applications each, "
          f"{args.workers} workers, {args.latency_ms} ms per GitHub request, {os.cpu_count()} cores")
    try:
        with SandboxServer(sandbox) as server:
            # Set up without Redis and without latency: each installation prepares its fund (labels).
            setup = World(sandbox, server.url, 1, key, settings={"repo": None}, seed=True)
            setup.add_applicant_repo(APPLICANT_REPO)
            logging.getLogger("fundbot.handle").setLevel(logging.WARNING)  # the set-up's "fund prepared" lines
            numbers: dict[str, list[int]] = {}
            for i in range(args.funds):
                owner, repo = f"fund-{i:04d}", f"fund-{i:04d}/applications"
                sandbox.add_user(owner, "Organization")
                sandbox.add_repo(repo)
                sandbox.add_file(repo, FUND_FILE, fund_file)
                setup.deliver(sandbox.install(1000 + i, owner, [repo], owner))
                numbers[repo] = []
                for k in range(args.applications):
                    opened = sandbox.open_issue(repo, f"dev{k}", f"[Application]: P{k}", application_body(
                        repository=f"https://github.com/{APPLICANT_REPO}"), labels=["fund: application"])
                    sandbox.pending_deliveries()  # lost, as in an outage: the sweep must find them
                    numbers[repo].append(int(opened.payload["issue"]["number"]))
            setup.close()
            env = {"GITHUB_API_URL": server.url, "GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": key,
                   "FUNDBOT_REDIS_URL": redis_server.url, "FUNDBOT_LOG_LEVEL": "ERROR"}
            redis = redis_py.Redis.from_url(redis_server.url)
            print(f"{'sweep':<40} {'funds':>6} {'seconds':>8} {'funds/min':>10} {'1,000 funds':>12} {'5,000 funds':>12}")
            for name in ("repair (every application processed)", "again, nothing to repair"):
                funds, elapsed = timed_sweep(server, sandbox, env, redis, args.workers, args.latency_ms)
                rate = funds / elapsed * 60
                print(f"{name:<40} {funds:>6} {elapsed:>8.1f} {rate:>10.1f} {1000 / rate:>10.1f} m {5000 / rate:>10.1f} m")
                if name.startswith("repair"):
                    missing = [(repo, n) for repo, ns in numbers.items() for n in ns
                               if not any(c["body"].startswith(STATUS_MARKER) for c in sandbox.comments(repo, n))]
                    if missing:
                        raise SystemExit(f"{len(missing)} applications not repaired, e.g. {missing[:3]}")
            redis.close()
    finally:
        redis_server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
