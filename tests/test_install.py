"""Any install works (issue 15): the project installed *not* editable into a fresh venv, from what a
clean checkout holds, runs `fundbot validate`, the sweep workflow's `sweep` (as a fund's repository runs
it: here, or queued for the service's workers), `demo` and `serve` — the default rules, issue forms, app.yml and gunicorn settings ship inside the
package. Nothing is downloaded (issue 24): as `pip install .` does, a wheel is built and installed —
built by this interpreter with the test extra's setuptools (`--no-build-isolation`; the venv's base
interpreter may carry one too old for PEP 639's `license = "MIT"`), installed into the fresh venv
alone (`--no-deps`); then a `.pth` file there lists this interpreter's site-packages folders, so the
venv sees the dependencies already installed here."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import site
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import processes
import pytest
import requests
import yaml

from deploy_files import PROJECT_ROOT, healthcheck
from e2e_harness import free_port
from pipeline_world import filed

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "sweep.yml"


def _clean_checkout(target: Path) -> Path:
    """The files a fresh clone of this working tree would have (tracked, or new and not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=PROJECT_ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = PROJECT_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A venv with the project installed from a clean checkout, as `pip install .` does."""
    root = tmp_path_factory.mktemp("install")
    source = _clean_checkout(root / "checkout")
    env = _environ()
    # The wheel is built here, with the setuptools this environment has (the test extra's), not with
    # whatever the fresh venv's base interpreter carries.
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
                            "--no-build-isolation", "--wheel-dir", str(root / "dist"), str(source)],
                           cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (root / "dist").glob("fund_bot-*.whl")
    # --without-pip: this interpreter's pip installs into the venv (`--python`, pip runs in the venv's
    # interpreter and sees only the venv, still empty: it installs the wheel and touches nothing here).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True, env=env)
    python = root / "venv" / "bin" / "python"
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                              "--no-deps", "--no-index", str(wheel)], cwd=root, env=env, capture_output=True,
                             text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    venv_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               cwd=root, env=env, capture_output=True, text=True, check=True).stdout.strip()
    (Path(venv_site) / "_fundbot_test_deps.pth").write_text("".join(f"{folder}\n" for folder in _site_folders()))
    where = subprocess.run([str(python), "-c", "import bot; print(bot.__file__)"], cwd=root, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(root / "venv")), where  # the installed copy, not a checkout or an editable one
    return root / "venv"


def _site_folders() -> list[str]:
    """This interpreter's site-packages folders, in its own order: a venv's, and its base interpreter's
    when it was made with --system-site-packages; the base interpreter's (and the user's) when this is
    no venv. Plain paths in a `.pth`: the fresh venv does not run the `.pth` files in them, so an
    editable install of this checkout found there does not put the checkout on its path."""
    folders = set(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        folders.add(site.getusersitepackages())
    found = [entry for entry in sys.path if entry in folders]
    assert found, (sys.path, folders)
    return found


def _environ(**extra: str) -> dict[str, str]:
    """This environment without the developer's PYTHONPATH and the service's settings."""
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONPATH" and not k.startswith(("GITHUB_", "FUNDBOT_", "HOST", "PORT", "WEB_CONCURRENCY"))}
    env.update(extra)
    return env


def _fundbot(venv: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / "fundbot"), *args], cwd=venv.parent, env=env or _environ(),
                          capture_output=True, text=True, timeout=timeout)


def test_the_wheel_carries_the_rules_and_forms_from_the_top_of_the_repository(venv):
    # One copy in the tree (rules/, .github/ISSUE_TEMPLATE/: a fund's template), mapped into the package.
    (wheel,) = (venv.parent / "dist").glob("fund_bot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for folder, packaged in ((PROJECT_ROOT / "rules", "bot/defaults/rules"),
                                 (PROJECT_ROOT / ".github" / "ISSUE_TEMPLATE", "bot/defaults/ISSUE_TEMPLATE")):
            files = sorted(folder.glob("*.yml"))
            assert len(files) >= 5, folder
            for path in files:
                assert archive.read(f"{packaged}/{path.name}") == path.read_bytes(), path
        assert "bot/defaults/app.yml" in archive.namelist()


def test_validate_finds_the_shipped_rules_and_forms(venv):
    run = _fundbot(venv, "validate")
    assert run.returncode == 0, run.stderr
    assert f"rules in {venv}" in run.stdout and "site-packages/bot/defaults/ISSUE_TEMPLATE are valid" in run.stdout


def test_a_fund_file_is_checked_offline_by_the_installed_package(venv, tmp_path):
    # The example and the schemas it is checked with ship inside the package.
    example = tmp_path / "fund-bot.yml"
    example.write_text((PROJECT_ROOT / ".github" / "fund-bot.yml").read_text())
    run = _fundbot(venv, "validate", "--fund-file", str(example))
    assert run.returncode == 0 and "valid over the server's rules" in run.stdout, run.stderr
    schema = _fundbot(venv, "schema")
    assert schema.returncode == 0 and '"title": ".github/fund-bot.yml"' in schema.stdout, schema.stderr


def test_demo_runs_from_the_installed_package(venv):
    run = _fundbot(venv, "demo")
    assert run.returncode == 0, run.stderr
    assert "#1 funded" in run.stdout


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _workflow_step(name_or_run: str) -> dict:
    steps = _workflow()["jobs"]["sweep"]["steps"]
    return next(s for s in steps if s.get("name") == name_or_run or s.get("run") == name_or_run)


def _refuses(environment: dict[str, str], variables: dict[str, str]) -> bool:
    """Whether the workflow's guard step runs (and fails the job), its `if:` read as GitHub reads it."""
    condition = _workflow_step("Refuse to sweep without the service's locks")["if"]
    match = re.fullmatch(r"\$\{\{ env\.(\w+) == '' && vars\.(\w+) != 'true' \}\}", condition)
    assert match, condition
    return environment.get(match[1], "") == "" and variables.get(match[2], "") != "true"


def _sweep_environ(venv: Path, app_key: str, sandbox_url: str, **secrets: str) -> dict[str, str]:
    """The Sweep step's environment as GitHub gives it, the workflow's secrets and variables filled in
    (a secret not set is empty)."""
    from sandbox_fixtures import APP_ID

    from bot.demo.world import FUND_REPO

    given = {"${{ secrets.FUND_BOT_APP_ID }}": secrets.get("FUND_BOT_APP_ID", str(APP_ID)),
             "${{ secrets.FUND_BOT_PRIVATE_KEY }}": secrets.get("FUND_BOT_PRIVATE_KEY", app_key),
             "${{ secrets.FUNDBOT_REDIS_URL }}": secrets.get("FUNDBOT_REDIS_URL", ""),
             "${{ github.repository }}": FUND_REPO,  # it runs in the fund's own repository
             ".fundbot-etags.json": str(venv.parent / ".fundbot-etags.json")}
    env = {**_workflow()["env"], **_workflow_step("Sweep")["env"]}
    return _environ(GITHUB_API_URL=sandbox_url, **{k: given.get(v, v) for k, v in env.items()})


def test_the_sweep_workflow_installs_the_released_package_the_service_runs():
    import tomllib

    install = _workflow_step("Install Fund Bot (the released package)")
    version = _workflow()["env"]["FUND_BOT_VERSION"]
    # What the venv fixture installed offline (the wheel of this version), pip takes from the release's tag.
    assert version == tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"]
    [requirement] = shlex.split(install["run"].replace("${FUND_BOT_VERSION}", version))[2:]
    assert requirement == f"fund-bot @ git+https://github.com/open-source-fund/fund-bot@v{version}"
    assert "actions/checkout" not in WORKFLOW.read_text()  # nothing of the bot's code is checked out
    # Kept in Fund Bot's own repository (app.yml's url) for funds to copy: it does nothing there.
    home = yaml.safe_load((PROJECT_ROOT / "bot" / "defaults" / "app.yml").read_text())["url"]
    assert _workflow()["jobs"]["sweep"]["if"] == f"${{{{ github.repository != '{home.removeprefix('https://github.com/')}' }}}}"


def test_the_sweep_workflow_refuses_to_sweep_without_knowing_the_services_locks():
    assert _refuses({}, {})  # neither said: refused
    assert not _refuses({"FUNDBOT_REDIS_URL": "rediss://…"}, {})
    assert not _refuses({}, {"FUNDBOT_WITHOUT_REDIS": "true"})
    steps = [s.get("name") for s in _workflow()["jobs"]["sweep"]["steps"]]
    assert steps.index("Refuse to sweep without the service's locks") < steps.index("Sweep")


def test_without_redis_the_sweep_workflow_sweeps_here(venv, world, sandbox_server, app_key):
    from bot.demo.world import FUND_REPO

    sweep = _workflow_step("Sweep")
    env = _sweep_environ(venv, app_key, sandbox_server.url)
    assert not _refuses(env, {"FUNDBOT_WITHOUT_REDIS": "true"})
    assert sweep["run"].startswith("fundbot sweep ")
    world.sandbox.clear_log()
    run = _fundbot(venv, "sweep", "--dry-run", env=env)
    assert run.returncode == 0, run.stderr
    assert f"of {FUND_REPO}" in run.stdout and "dry run, nothing written" in run.stdout
    assert world.sandbox.request_counts().writes == 0


def test_with_redis_the_sweep_workflow_queues_the_sweep_for_the_services_workers(venv, world, sandbox_server, app_key,
                                                                                redis_url):
    # The service's workers hold the locks and the key: the workflow only queues, and needs no App secret.
    pass

    from bot.demo.world import FUND_REPO
    from bot.jobs.context import connect
    from bot.jobs.worker import run_worker

    world.add_applicant_repo("tiny-org/tiny-inference")
    lost = filed(world.sandbox, "applicant", "Lost")
    world.deliver(lost, lose=True)
    world.sandbox.pending_deliveries()  # the label's delivery, lost as well
    env = _sweep_environ(venv, app_key, sandbox_server.url, FUNDBOT_REDIS_URL=redis_url, FUND_BOT_APP_ID="",
                         FUND_BOT_PRIVATE_KEY="")
    assert not _refuses(env, {})
    world.sandbox.clear_log()
    run = _fundbot(venv, "sweep", env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"sweep of {FUND_REPO}: queued for the workers\n"
    assert world.sandbox.requests() == []  # the runner asked nothing of GitHub
    redis = connect(redis_url)
    try:
        run_worker(world.context, redis, burst=True)  # the service's worker takes it
    finally:
        redis.close()
    assert world.record(int(lost.payload["issue"]["number"])) is not None


def test_serve_binds_as_the_procfile_does(venv, world, sandbox_server, app_key):
    from sandbox_fixtures import APP_ID

    port = free_port()
    env = _environ(HOST="127.0.0.1", PORT=str(port), GITHUB_API_URL=sandbox_server.url, GITHUB_APP_ID=str(APP_ID),
                   GITHUB_PRIVATE_KEY=app_key, GITHUB_WEBHOOK_SECRET="install-test-secret", FUNDBOT_LOG_LEVEL="WARNING")
    log = venv.parent / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(venv / "bin" / "fundbot"), "serve"], cwd=venv.parent, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.RequestException:  # not up yet: refused, reset, timed out — any of them
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200, log.read_text(errors="replace")
        # The image's HEALTHCHECK, run as Docker runs it (a shell, the image's python, its PORT): it passes
        # against the running service, and fails where nothing answers.
        probe = healthcheck()
        path = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        passed = subprocess.run(["sh", "-c", probe], env=_environ(PORT=str(port), PATH=path), timeout=30)
        failed = subprocess.run(["sh", "-c", probe], env=_environ(PORT=str(free_port()), PATH=path), timeout=30,
                                capture_output=True)
        assert passed.returncode == 0 and failed.returncode != 0
        # Before it served, it said which repository of the App's it ignores, and why (no FUNDBOT_REPO here).
        from bot.demo.world import FUND_REPO

        assert f"WARNING fundbot.funds an installed repository is ignored repo={FUND_REPO} reason=no " \
               ".github/fund-bot.yml" in log.read_text(errors="replace")
    finally:
        # gunicorn's master (serve became it) stops its worker; it runs in its own session
        processes.stop(process, grace=35, group=True)
