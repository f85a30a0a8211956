"""Votes: GitHub requests one read of a large community vote costs, first and repeated.

Runs the real service against the sandbox GitHub (in this process, over loopback). An application sits
in the community stage with N reactions (default 5,000); a comment (`/tally`) makes the bot read them —
paged 100 at a time, each page a conditional request — and the sandbox counts what the reading cost:
the reactions' pages, then the whole delivery. The first read takes every page; a repeated read after
one more reaction gets 304s (free against the rate limit) for the pages that did not change. With
`--voters established` each voter is looked up too (GraphQL, 25 a query, at most 100 new voters a run;
the rest by the next runs, from the cache after that).

    python benchmarks/votes.py                    # 5,000 reactions, anyone votes
    python benchmarks/votes.py --reactions 10000 --voters established

The promise (issue 23): one read of a 5,000-reaction vote costs at most 60 requests.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pipeline_world import ACTIVE_REPO, advance_to, open_application  # noqa: E402

from bot.config.rules import fund_rules  # noqa: E402
from bot.config.settings import DEFAULT_RULES_DIR  # noqa: E402
from bot.demo.world import FUND_REPO, running_world  # noqa: E402
from bot.policy.rules import FUND_FILE  # noqa: E402
from bot.sandbox import RateLimits  # noqa: E402

START = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.timezone.utc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reactions", type=int, default=5000)
    parser.add_argument("--voters", choices=("anyone", "established"), default="anyone")
    parser.add_argument("--reads", type=int, default=3, help="reads after the first (one new reaction before each)")
    args = parser.parse_args(argv)
    with running_world(now=lambda: START) as world:
        sb = world.sandbox
        sb.rate_limits = RateLimits(installation=10**9)
        if args.voters == "established":
            stages = yaml.safe_load((DEFAULT_RULES_DIR / "stages.yml").read_text())
            stages["voters"] = {"who": "established", "min_account_days": 30, "min_contributions": 1}
            text = yaml.safe_dump({"stages": stages})
            sb.add_file(FUND_REPO, FUND_FILE, text)
            world.use_rules(fund_rules(world.rules, text, {}))
        world.add_applicant_repo(ACTIVE_REPO)
        number = open_application(world, "ada", "Popular", repo=ACTIVE_REPO)
        advance_to(world, number, "community")
        for i in range(args.reactions):
            sb.add_user(f"voter{i}", created_at=START - dt.timedelta(days=400), contributions=i % 3)
            sb.react(FUND_REPO, number, f"voter{i}", "+1" if i % 4 else "-1")
        tail = f"/issues/{number}/reactions"  # the first page by name, the next by GitHub's /repositories/{id} links
        print(f"{args.reactions} reactions, voters: {args.voters}")
        print(f"{'read':<34} {'reaction pages':>14} {'of them 304':>11} {'graphql':>7} {'whole delivery':>14}")
        for step in range(args.reads + 1):
            if step:
                sb.add_user(f"late{step}", created_at=START - dt.timedelta(days=400), contributions=5)
                sb.react(FUND_REPO, number, f"late{step}", "+1")
            sb.clear_log()
            world.deliver(sb.comment(FUND_REPO, number, "stan", "/tally"))
            pages = [r for r in sb.requests("GET") if r.path.endswith(tail)]
            graphql = sb.requests("POST", "/graphql")
            whole = [r for r in sb.requests() if not r.path.startswith("/app/")]
            record = world.record(number)
            name = "first read" if not step else f"after one more reaction ({step})"
            print(f"{name:<34} {len(pages):>14} {sum(r.not_modified for r in pages):>11} {len(graphql):>7} "
                  f"{len(whole):>14}   👍 {record.votes_up} 👎 {record.votes_down} not counted "
                  f"{dict(record.votes_uncounted)}")
    print("each page is a conditional GET of 100 reactions; a 304 does not count against the rate limit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
