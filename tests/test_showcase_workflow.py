"""`.github/workflows/showcase.yml` (issue 22, part 2) as GitHub would run it: on a schedule and on demand,
built with the package the fund's repository holds, deployed with GitHub Pages' own actions and the
permissions they need, and only in a fund's repository — Fund Bot's own (a template) publishes its
documentation there instead (docs.yml); `pages-site.yml` tells the two apart for both. The build step's
command is run here, against the sandbox, with the settings the workflow gives it."""
from __future__ import annotations

import contextlib
import io
import re
import shlex

import pytest
import yaml
from pipeline_world import frozen_world
from sandbox_fixtures import APP_ID
from showcase_world import fund_file, funded, use_fund_file

from bot.cli import build_parser, main
from bot.config.settings import Settings
from bot.demo.world import FUND_REPO
from deploy_files import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"


def workflow(name: str) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as "on".
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True)
    return data


@pytest.fixture(scope="module")
def showcase() -> dict:
    return workflow("showcase.yml")


def steps(job: dict) -> list[dict]:
    return job["steps"]


def step(job: dict, uses: str) -> dict:
    [found] = [s for s in steps(job) if s.get("uses", "").split("@")[0] == uses]
    return found


def test_it_runs_every_day_and_on_demand(showcase):
    assert set(showcase["on"]) == {"schedule", "workflow_dispatch"}
    [cron] = [c["cron"] for c in showcase["on"]["schedule"]]
    minute, hour, *rest = cron.split()
    assert 0 <= int(minute) < 60 and 0 <= int(hour) < 24 and rest == ["*", "*", "*"]


def test_it_deploys_with_pages_own_actions_and_only_the_permissions_they_need(showcase):
    assert showcase["permissions"] == {"contents": "read"}
    build, deploy = showcase["jobs"]["build"], showcase["jobs"]["deploy"]
    assert step(build, "actions/upload-pages-artifact")["uses"] == "actions/upload-pages-artifact@v3"
    assert step(deploy, "actions/deploy-pages")["uses"] == "actions/deploy-pages@v4"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["needs"] == "build" and deploy["if"] == "needs.build.outputs.built == 'true'"
    # One Pages deployment at a time, with the documentation's workflow.
    assert showcase["concurrency"]["group"] == workflow("docs.yml")["concurrency"]["group"]


def test_it_builds_with_the_package_the_funds_repository_holds(showcase):
    build = showcase["jobs"]["build"]
    assert step(build, "actions/checkout")["with"] == {"ref": "${{ vars.FUNDBOT_RELEASE }}"}
    runs = [s.get("run") for s in steps(build)]
    assert "pip install ." in runs
    assert runs.index("pip install .") < next(i for i, s in enumerate(steps(build)) if s.get("id") == "build")


def build_step(showcase) -> dict:
    [found] = [s for s in steps(showcase["jobs"]["build"]) if s.get("id") == "build"]
    return found


def test_the_build_command_is_one_the_cli_takes_and_the_artifact_is_what_it_wrote(showcase):
    found = build_step(showcase)
    first = found["run"].splitlines()[0]
    argv = shlex.split(first.replace('"$SHOWCASE_URL"', "https://example.github.io/fund/"))
    assert argv[:3] == ["fundbot", "showcase", "build"]
    args = build_parser().parse_args(argv[1:])
    assert args.out == step(showcase["jobs"]["build"], "actions/upload-pages-artifact")["with"]["path"]
    assert f"test -f {args.out}/index.html" in found["run"]  # nothing built (switched off): nothing deployed
    assert found["env"]["SHOWCASE_URL"] == "${{ steps.pages.outputs.base_url }}"
    # Every other variable it sets is one the settings read.
    names = set(re.findall(r'"([A-Z_]+)"', (PROJECT_ROOT / "bot" / "config" / "settings.py").read_text()))
    assert set(found["env"]) - {"SHOWCASE_URL"} <= names
    assert found["env"]["GITHUB_APP_ID"] == "${{ secrets.FUND_BOT_APP_ID }}"  # the sweep's secrets, as the docs say
    assert workflow("sweep.yml")["jobs"]["sweep"]["steps"][-2]["env"]["GITHUB_PRIVATE_KEY"] == \
        found["env"]["GITHUB_PRIVATE_KEY"]


def test_the_build_command_builds_the_showcase_with_the_workflows_settings(showcase, app_key, tmp_path):
    found = build_step(showcase)
    given = {"${{ secrets.FUND_BOT_APP_ID }}": str(APP_ID), "${{ secrets.FUND_BOT_PRIVATE_KEY }}": app_key,
             "${{ github.repository }}": FUND_REPO,
             "${{ steps.pages.outputs.base_url }}": "https://open-source-fund.github.io/applications"}
    with frozen_world(app_key) as world:
        use_fund_file(world, fund_file())
        world.add_applicant_repo("tiny-org/tiny-inference")
        number = funded(world, "ada", "Tiny Inference", "30000")
        env = {"GITHUB_API_URL": world.settings.api_url, **{k: given[v] for k, v in found["env"].items()}}
        Settings.from_env(env)  # the settings it gives are valid
        argv = shlex.split(found["run"].splitlines()[0].replace('"$SHOWCASE_URL"', env["SHOWCASE_URL"]))
        argv[3] = str(tmp_path / argv[3])
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(argv[1:], env) == 0
    assert (tmp_path / "site" / "index.html").is_file()
    assert f"https://open-source-fund.github.io/applications/en/grants/{number}.html" in \
        (tmp_path / "site" / "en" / "feed.json").read_text()


def test_the_showcase_and_the_documentation_never_share_a_repositorys_pages(showcase):
    docs = workflow("docs.yml")
    for data, site in ((showcase, "showcase"), (docs, "docs")):
        assert data["jobs"]["pages"] == {"uses": "./.github/workflows/pages-site.yml"}
        assert data["jobs"]["build"]["needs"] == "pages"
        assert data["jobs"]["build"]["if"] == f"needs.pages.outputs.site == '{site}'"
        assert data["jobs"]["deploy"]["needs"] == "build"
    kind = workflow("pages-site.yml")
    assert set(kind["on"]) == {"workflow_call"}
    [ask] = steps(kind["jobs"]["repository"])
    assert 'gh api "repos/$GITHUB_REPOSITORY" --jq .is_template' in ask["run"]
    assert "echo docs || echo showcase" in ask["run"]
    assert kind["on"]["workflow_call"]["outputs"]["site"]["value"] == "${{ jobs.repository.outputs.site }}"
