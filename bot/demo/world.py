"""A fund on the sandbox GitHub, with Fund Bot wired to it: what the tests and `fundbot demo` run.

`World` seeds the sandbox (the fund's applications repository with the App installed, its labels,
reviewers, applicants' repositories), builds the real service with `create_app` pointed at the
sandbox's URL, and delivers the sandbox's webhooks to it signed, exactly as GitHub would. The
bot's clock is the sandbox's clock, so `travel()` moves both.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config.rules import load_rules
from bot.config.settings import DEFAULT_RULES_DIR, DEFAULT_TEMPLATES_DIR, Settings
from bot.github.app import GitHubApp
from bot.github.transport import RetryPolicy
from bot.github.webhooks import signature_for
from bot.jobs.context import Context
from bot.jobs.fund_setup import sync_labels
from bot.jobs.sweep import SweepResult, sweep
from bot.policy.rules import Rules
from bot.sandbox.deliveries import Delivery
from bot.sandbox.keys import throwaway_app_key
from bot.sandbox.server import Sandbox, SandboxServer
from bot.web.app import Runtime, create_app

FUND_REPO = "open-source-fund/applications"
FUND_OWNER = "open-source-fund"
INSTALLATION_ID = 77
WEBHOOK_SECRET = "sandbox-webhook-secret"


@dataclass(frozen=True)
class Answer:
    status: int
    json: dict[str, Any]


def outside_urls(api_url: str) -> dict[str, str]:
    """The outside services the evidence pack reads, as the sandbox serves them beside GitHub (its
    `api/outside.py`): the settings' fields, and (`outside_env`) the environment a deployment sets."""
    return {"scorecard_url": f"{api_url}/scorecard", "depsdev_url": f"{api_url}/depsdev",
            "pypistats_url": f"{api_url}/pypistats", "npm_url": f"{api_url}/npm"}


def outside_env(api_url: str) -> dict[str, str]:
    names = {"scorecard_url": "FUNDBOT_SCORECARD_URL", "depsdev_url": "FUNDBOT_DEPSDEV_URL",
             "pypistats_url": "FUNDBOT_PYPISTATS_URL", "npm_url": "FUNDBOT_NPM_URL"}
    return {names[key]: url for key, url in outside_urls(api_url).items()}


class World:
    """The fund, its GitHub, and the bot, in one process."""

    def __init__(
        self,
        sandbox: Sandbox,
        api_url: str,
        app_id: int,
        app_key: str,
        *,
        rules_dir: Path = DEFAULT_RULES_DIR,
        templates_dir: Path = DEFAULT_TEMPLATES_DIR,
        reviewers: Iterable[str] = ("rita", "ravi"),
        workers: int = 2,
        retry: RetryPolicy | None = None,
        sleep: Any = None,
        seed: bool = True,
        redis_url: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        """`settings`: more fields of the service's `Settings` (a log format, a previous webhook secret ...)."""
        self.sandbox = sandbox
        self.repo = FUND_REPO
        # `settings={"repo": None}`: every fund of every installation, as a hosted Fund Bot runs.
        self.settings = Settings(
            api_url=api_url, app_id=app_id, private_key=app_key, webhook_secret=WEBHOOK_SECRET.encode(),
            rules_dir=rules_dir, templates_dir=templates_dir, workers=workers, redis_url=redis_url,
            **{"repo": FUND_REPO, **outside_urls(api_url), **(settings or {})},
        )
        self.rules: Rules = load_rules(rules_dir, templates_dir)
        github_kw: dict[str, Any] = {"clock": sandbox.now, "policy": retry or RetryPolicy(base_delay=0.05)}
        if sleep is not None:
            github_kw["sleep"] = sleep
        self.github = GitHubApp(self.settings, **github_kw)
        self.app = create_app({"SETTINGS": self.settings, "RULES": self.rules, "GITHUB": self.github,
                               "CLOCK": sandbox.now})
        self.client = self.app.test_client()
        if seed:  # a World made again on the same sandbox is a restarted service: nothing to seed
            self._seed(reviewers)

    @property
    def runtime(self) -> Runtime:
        return self.app.extensions["fundbot"]

    @property
    def context(self) -> Context:
        return self.runtime.context

    def use_rules(self, rules: Rules) -> None:
        """Run the fund by other server rules from now on (as a restart with a changed rules/ would)."""
        from bot.config.funds import Funds

        self.rules = rules
        self.context.rules = rules
        self.context.funds = Funds(rules, narrow_to=self.settings.repo, ttl=self.settings.config_ttl,
                                   seal_key=self.context.seal_key, seal_previous=self.context.seal_previous)

    def _seed(self, reviewers: Iterable[str]) -> None:
        sb = self.sandbox
        sb.add_user(FUND_OWNER, "Organization")
        sb.add_repo(FUND_REPO, default_labels=True)
        sb.add_installation(INSTALLATION_ID, FUND_OWNER, [FUND_REPO])
        for login in reviewers:
            sb.set_permission(FUND_REPO, login, "write")  # collaborators: author_association COLLABORATOR
        sync_labels(self.github.for_installation(INSTALLATION_ID), FUND_REPO, self.rules)

    def add_applicant_repo(self, full_name: str, *, days_since_commit: int = 3, commits: int = 12,
                           people: int = 5, **kw: Any) -> None:
        """A public repository with recent commits (by its contributors, in turn) and contributors (override to
        make it fail)."""
        now = self.sandbox.now()
        self.sandbox.add_repo(
            full_name,
            commits=[(now - dt.timedelta(days=days_since_commit + i), f"dev{i % people}" if people else full_name.split("/")[0])
                     for i in range(commits)],
            contributors=[(f"dev{i}", "User", 50 - i) for i in range(people)] + [("dependabot[bot]", "Bot", 3)],
            **kw,
        )

    # --- deliveries --------------------------------------------------------------------------

    def post(self, delivery: Delivery, *, wait: bool = True) -> Answer:
        """Send one delivery to the service, signed as GitHub signs it; wait for its processing."""
        body = delivery.body()
        headers = {"X-GitHub-Event": delivery.event, "X-GitHub-Delivery": delivery.id,
                   "X-Hub-Signature-256": signature_for(WEBHOOK_SECRET.encode(), body),
                   "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/sandbox"}
        response = self.client.post("/webhook", data=body, headers=headers)
        if wait and self.settings.redis_url:
            self.work()
        elif wait:
            self.runtime.queue.join(30)
        return Answer(response.status_code, response.get_json() or {})

    def deliver(self, delivery: Delivery | None, *, lose: bool = False) -> Answer | None:
        """Deliver what a person's action caused (and GitHub's follow-up deliveries for the bot's
        own writes, which the bot must ignore). `lose=True` drops it, as a failed delivery would."""
        if delivery is None:
            return None
        answer = None if lose else self.post(delivery)
        self.flush()
        return answer

    def work(self) -> None:
        """With Redis: run what the web tier queued, here, as `fundbot worker --burst` would."""
        from bot.jobs.context import connect
        from bot.jobs.worker import run_worker

        assert self.settings.redis_url, "this World queues in-process"
        redis = connect(self.settings.redis_url)
        try:
            run_worker(self.context, redis, burst=True)
        finally:
            redis.close()

    def flush(self) -> list[Answer]:
        """Deliver everything GitHub queued (events of the bot's own writes, labels of forms ...)."""
        answers = []
        while pending := self.sandbox.pending_deliveries():
            answers += [self.post(d) for d in pending]
        return answers

    def sweep(self, *, dry_run: bool = False) -> SweepResult:
        gateway = self.github.for_repository(FUND_REPO)
        result = sweep(self.context, gateway, FUND_REPO, dry_run=dry_run)
        self.flush()
        return result

    # --- what people see -----------------------------------------------------------------------

    @property
    def app_login(self) -> str:
        return self.github.app_login()

    def status_comments(self, number: int) -> list[dict]:
        """The App's own status comments on an issue (one, always: more is a broken promise)."""
        from bot.policy.markers import STATUS_MARKER

        return [c for c in self.sandbox.comments(FUND_REPO, number)
                if c["user"]["login"] == self.app_login and c["body"].startswith(STATUS_MARKER)]

    def status_comment(self, number: int) -> str | None:
        found = self.status_comments(number)
        return found[0]["body"] if found else None

    def bot_comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.sandbox.comments(FUND_REPO, number) if c["user"]["type"] == "Bot"]

    def labels(self, number: int) -> set[str]:
        return set(self.sandbox.issue_labels(FUND_REPO, number))

    def record(self, number: int):
        from bot.policy.markers import read_record

        body = self.status_comment(number)
        return read_record(body).record if body else None

    def close(self) -> None:
        self.runtime.queue.close(5)


@contextlib.contextmanager
def running_world(
    *, now: Callable[[], dt.datetime] | None = None, openapi: Path | None = None, app_id: int = 1,
    app_key: str | None = None, quiet: bool = True, **world_kw: Any,
) -> Iterator[World]:
    """A sandbox GitHub served on 127.0.0.1 with a fresh App key, and a `World` on it; all
    stopped on exit. `quiet` keeps the service's INFO lines out of the way."""
    key = app_key or throwaway_app_key()
    sandbox = Sandbox(now=now, openapi=openapi)
    sandbox.register_app(app_id, key)
    logger = logging.getLogger("fundbot")
    level = logger.level
    with SandboxServer(sandbox) as server:
        world = World(sandbox, server.url, app_id, key, **world_kw)
        if quiet:
            logger.setLevel(logging.WARNING)
        try:
            yield world
        finally:
            world.close()
            logger.setLevel(level)
