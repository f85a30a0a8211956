"""A fund's configuration as the tests write it: sections of the shipped rules as data (changed where a
test needs it), a fund's `.github/fund-bot.yml` made of them, the two ways a world's fund gets one (an
administrator's push, delivered; or the file and the service's rules at once), and the environment a
`fundbot` command runs in against a world. One place, so that every test changes the rules the same way."""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import yaml
from sandbox_fixtures import APP_ID, OPENAPI_SUBSET

from bot.config.rules import fund_rules
from bot.config.settings import DEFAULT_RULES_DIR, Settings
from bot.demo.world import FUND_REPO, World, running_world
from bot.policy.configissue import CONFIG_ISSUE_TITLE
from bot.policy.rules import FUND_FILE

CONFIG_TTL = Settings.config_ttl


def section(name: str, **changes: object) -> dict:
    """A whole section of the shipped rules (`rules/<name>.yml`), with `changes` set by path, its parts
    joined by `__` (`community__min_contributors=10`)."""
    data = yaml.safe_load((DEFAULT_RULES_DIR / f"{name}.yml").read_text(encoding="utf-8"))
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = data
        for key in parents:
            node = node[key]
        node[leaf] = value
    return data


def stages_section(**changes_by_stage: dict) -> dict:
    """The shipped `stages` section with each named stage's keys updated (`community={"vote": ...}`)."""
    stages = section("stages")
    for stage in stages["stages"]:
        stage.update(changes_by_stage.get(stage["name"], {}))
    return stages


def funding_section(**changes: object) -> dict:
    """The shipped `funding` section with `changes`; given `rounds`, the single `round` goes."""
    funding = section("funding")
    funding.update(changes)
    if "rounds" in changes:
        funding.pop("round", None)
    return funding


def fund_file(**sections: object) -> str:
    """A fund's `.github/fund-bot.yml` of these sections."""
    return yaml.safe_dump(sections, sort_keys=False)


def use_fund_file(world: World, text: str) -> None:
    """The fund's file in its repository (as `fundbot` commands read it) and in the service's rules
    from now on, with no delivery."""
    world.sandbox.add_file(FUND_REPO, FUND_FILE, text)
    world.use_rules(fund_rules(world.rules, text, {}))


def use_funding(world: World, **changes: object) -> None:
    use_fund_file(world, fund_file(funding=funding_section(**changes)))


def use_stages(world: World, **changes_by_stage: dict) -> None:
    use_fund_file(world, fund_file(stages=stages_section(**changes_by_stage)))


def push(world: World, repo: str, path: str, text: str) -> None:
    """An administrator's push, a while after the last one (pushes within the configuration's TTL of one
    that was read are read when it ends: `test_a_storm_of_pushes_reads_the_files_once_per_ttl`)."""
    world.sandbox.travel(dt.timedelta(seconds=CONFIG_TTL + 1))
    world.deliver(world.sandbox.commit_file(repo, path, text, repo.split("/")[0]))


def config_issues(world: World, repo: str) -> list[dict]:
    """The issues where the App lists a fund's configuration problems."""
    return [i for i in world.sandbox.issues(repo) if i["title"] == CONFIG_ISSUE_TITLE]


def app_environ(world: World, app_key: str, *, repo: str | None = FUND_REPO, **more: str) -> dict[str, str]:
    """What a deployment of `fundbot` sets to reach the world's GitHub as the App: for the one fund
    `repo`, or (`repo=None`) for every installed fund."""
    environ = {"GITHUB_API_URL": world.settings.api_url, "GITHUB_APP_ID": str(APP_ID), "GITHUB_PRIVATE_KEY": app_key,
               "FUNDBOT_LOG_LEVEL": "WARNING", **more}
    if repo:
        environ["FUNDBOT_REPO"] = repo
    return environ


# --- two funds, one service ----------------------------------------------------------------------------

RIVER_REPO, RIVER_OWNER, RIVER_INSTALLATION = "river-fund/grants", "river-fund", 88
APPLICANT_REPO = "tiny-org/five-people"  # five contributors


def strict(min_contributors: int) -> str:
    """A fund file that raises the contributors an applicant's repository needs."""
    return fund_file(eligibility=section("eligibility", community__min_contributors=min_contributors))


@contextlib.contextmanager
def two_funds(app_key: str, **world_kw) -> Iterator[World]:
    """Two funds in two installations, served by one service: the fund's own (10 contributors needed)
    and river-fund's (2 needed), which installs the App on a repository that already has its file."""
    with running_world(openapi=OPENAPI_SUBSET, app_id=APP_ID, app_key=app_key, settings={"repo": None},
                       **world_kw) as world:
        sb = world.sandbox
        push(world, FUND_REPO, FUND_FILE, strict(10))
        sb.add_user(RIVER_OWNER, "Organization")
        sb.add_repo(RIVER_REPO)
        sb.add_file(RIVER_REPO, FUND_FILE, strict(2))
        sb.set_permission(RIVER_REPO, "rosa", "write")
        world.deliver(sb.install(RIVER_INSTALLATION, RIVER_OWNER, [RIVER_REPO], RIVER_OWNER))
        world.add_applicant_repo(APPLICANT_REPO, people=5)
        yield world
    assert not world.sandbox.violations, world.sandbox.violations
