"""Parsing time of adversarial issue bodies and comments: what a hostile applicant or commenter costs.

The form parser and the command parser meet bodies up to GitHub's 65,536 characters; each case
here is built to make a careless regular expression go quadratic. Prints the median time of a
parse per case (a benchmark prints figures; the tests only check the parses are right).

    python benchmarks/forms.py
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_forms import ADVERSARIAL, APPLICATION  # noqa: E402

from bot.policy.command_parse import parse_commands  # noqa: E402
from bot.policy.form_body import parse_form  # noqa: E402

COMMENTS = [
    ("command-with-20k-spaces", "/x a" + " " * 20_000 + "b"),
    ("5000-unknown-commands", "\n".join(f"/nope-{i}" for i in range(5_000))),
    ("unclosed-pre", "<pre>" + "\n/advance" * 5_000),
    ("many-html-comments", "<!-- x -->\n/help\n" * 3_000),
]


def median_ms(parse, text: str, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        parse(text)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    print(f"{'case':32} {'chars':>7} {'median ms':>10}")
    for name, body in ADVERSARIAL:
        print(f"form: {name:26} {len(body):7} {median_ms(lambda b: parse_form(APPLICATION, b), body):10.1f}")
    for name, body in COMMENTS:
        print(f"comment: {name:23} {len(body):7} {median_ms(parse_commands, body):10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
