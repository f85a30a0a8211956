"""`fundbot setup` and `app.yml`: GitHub's App-manifest flow, driven with `requests` as a browser would
(the local page, GitHub's side played by the sandbox, the redirect back), the credentials written to an
owner-only env file that the service can start from, and the manifest kept to the table in
docs/administrators/create-the-app.md."""
from __future__ import annotations

import json
import re
import stat
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from bot.cli import main
from bot.config.settings import DEFAULT_MANIFEST, Need, Settings
from bot.github.app import GitHubApp
from bot.setup import ManifestFlow, SetupError, Target, load_manifest, write_env_file

ROOT = Path(__file__).resolve().parent.parent
APP_YML = DEFAULT_MANIFEST


class Form(HTMLParser):
    """The page's form: where it posts, how, and its fields."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.action = self.method = ""
        self.fields: dict[str, str] = {}
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action, self.method = found.get("action", ""), found.get("method", "")
        elif tag == "input":
            self.fields[found.get("name", "")] = found.get("value", "")


def read_env_file(path: Path) -> dict[str, str]:
    return dict(re.fullmatch(r"(\w+)='(.*)'", line).groups() for line in path.read_text().splitlines()
                if line and not line.startswith("#"))


def open_page(flow: ManifestFlow) -> tuple[Form, dict, str]:
    """Load the local page as a browser would: its form, the manifest it posts, and the state it carries."""
    page = requests.get(flow.url, timeout=10)
    assert page.status_code == 200
    form = Form(page.text)
    state = parse_qs(urlparse(form.action).query)["state"][0]
    return form, json.loads(form.fields["manifest"]), state


def test_the_page_posts_the_manifest_with_the_state_and_github_redirects_back(sandbox, sandbox_server, tmp_path):
    env_file = tmp_path / ".env"
    manifest = load_manifest(APP_YML)
    with ManifestFlow(manifest, Target(api_url=sandbox_server.url), env_file) as flow:
        form, posted, state = open_page(flow)
        assert form.method.lower() == "post" and form.action.startswith("https://github.com/settings/apps/new?")
        assert state == flow.state and len(state) >= 32
        assert posted["redirect_url"] == flow.url + "callback"
        assert {k: v for k, v in posted.items() if k != "redirect_url"} == \
            {k: v for k, v in manifest.items() if k != "redirect_url"}
        # GitHub's side: the person creates the App, and the browser is sent to the redirect URL.
        code = sandbox.accept_manifest(posted)
        back = requests.get(posted["redirect_url"], params={"code": code, "state": state}, timeout=10)
        registered = flow.wait(timeout=30)
    assert back.status_code == 200 and str(env_file) in back.text
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    env = read_env_file(env_file)
    assert set(env) == {"GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET", "GITHUB_API_URL"}
    assert "\n" not in env["GITHUB_PRIVATE_KEY"] and env["GITHUB_PRIVATE_KEY"] not in back.text
    assert env["GITHUB_WEBHOOK_SECRET"] not in back.text
    # The service starts from what was written, and the key is the new App's.
    settings = Settings.from_env(env, Need.server())
    assert settings.app_id == registered.app_id
    assert GitHubApp(settings).app_login() == f"{registered.slug}[bot]"
    assert registered.html_url == f"https://github.com/apps/{registered.slug}"
    assert sandbox.app.permissions == manifest["default_permissions"]


def test_a_redirect_with_another_state_is_refused_and_the_flow_goes_on(sandbox, sandbox_server, tmp_path):
    env_file = tmp_path / ".env"
    with ManifestFlow(load_manifest(APP_YML), Target(api_url=sandbox_server.url), env_file) as flow:
        _, posted, state = open_page(flow)
        code = sandbox.accept_manifest(posted)
        forged = requests.get(posted["redirect_url"], params={"code": code, "state": "forged"}, timeout=10)
        assert forged.status_code == 400 and not env_file.exists()
        assert sandbox.requests("POST", "/app-manifests/*") == []  # the code was not exchanged
        assert requests.get(posted["redirect_url"], params={"code": code, "state": state}, timeout=10).ok
        flow.wait(timeout=30)
    assert env_file.exists()


def test_a_code_github_does_not_know_fails_the_setup_and_writes_nothing(sandbox, sandbox_server, tmp_path):
    env_file = tmp_path / ".env"
    with ManifestFlow(load_manifest(APP_YML), Target(api_url=sandbox_server.url), env_file) as flow:
        _, posted, state = open_page(flow)
        answer = requests.get(posted["redirect_url"], params={"code": "0123456789abcdef0123", "state": state},
                              timeout=10)
        assert answer.status_code == 502
        with pytest.raises(SetupError, match="GitHub answered 404"):
            flow.wait(timeout=30)
    assert not env_file.exists()


@pytest.mark.parametrize(
    "target, new_app_url, api",
    [(Target(), "https://github.com/settings/apps/new", "https://api.github.com"),
     (Target(org="my-org"), "https://github.com/organizations/my-org/settings/apps/new", "https://api.github.com"),
     (Target("ghe.example.com", "fund"), "https://ghe.example.com/organizations/fund/settings/apps/new",
      "https://ghe.example.com/api/v3"),
     (Target("ghe.example.com", api_url="https://api.ghe.example.com"), "https://ghe.example.com/settings/apps/new",
      "https://api.ghe.example.com")],
    ids=["github-com", "organisation", "enterprise-server", "enterprise-server-with-GITHUB_API_URL"],
)
def test_where_the_manifest_goes_and_the_code_is_exchanged(target, new_app_url, api):
    assert (target.new_app_url, target.api) == (new_app_url, api)


@pytest.mark.parametrize("host, org", [("https://github.com", None), ("github.com/", None), ("github.com", "my org")],
                         ids=["host-as-url", "host-with-path", "org-with-space"])
def test_a_host_or_organisation_that_is_not_one_exits_2(tmp_path, capsys, host, org):
    argv = ["setup", "--env-file", str(tmp_path / ".env"), "--no-browser", "--host", host]
    assert main(argv + (["--org", org] if org else []), {}) == 2
    assert "must be" in capsys.readouterr().err and not (tmp_path / ".env").exists()


def test_the_env_file_is_never_replaced_unasked(tmp_path):
    path = tmp_path / ".env"
    path.write_text("KEEP=1\n")
    path.chmod(0o644)
    with pytest.raises(FileExistsError):
        write_env_file(path, "NEW=1\n")
    assert path.read_text() == "KEEP=1\n"
    write_env_file(path, "NEW=1\n", force=True)
    assert path.read_text() == "NEW=1\n" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".env"]  # no temporary file left behind


def test_the_command_refuses_an_existing_env_file(tmp_path, capsys):
    path = tmp_path / ".env"
    path.write_text("KEEP=1\n")
    assert main(["setup", "--env-file", str(path), "--no-browser"], {}) == 2
    assert "exists" in capsys.readouterr().err and path.read_text() == "KEEP=1\n"


def run_setup(argv: list[str], sandbox, api_url: str, capsys, owner: str | None = None) -> tuple[list[int], Form, dict, str]:
    """`fundbot ARGV` (a setup) as a person runs it: the command waits for GitHub's redirect (in a thread,
    bounded by its --timeout); the person opens its page, creates the App on GitHub (the sandbox), and is
    sent back. Returns the exit status, the page's form, the manifest it posted, and all it printed."""
    status: list[int] = []
    command = threading.Thread(target=lambda: status.append(main(argv, {"GITHUB_API_URL": api_url})), daemon=True)
    command.start()
    printed, found = "", None
    while command.is_alive() and not (found := re.search(r"Open (http://127\.0\.0\.1:\d+/) ", printed)):
        command.join(0.05)
        printed += capsys.readouterr().out
    assert found, printed
    form = Form(requests.get(found.group(1), timeout=10).text)
    posted = json.loads(form.fields["manifest"])
    state = parse_qs(urlparse(form.action).query)["state"][0]
    code = sandbox.accept_manifest(posted, **({"owner": owner} if owner else {}))
    assert requests.get(posted["redirect_url"], params={"code": code, "state": state}, timeout=10).ok
    command.join(30)
    captured = capsys.readouterr()
    return status, form, posted, printed + captured.out + captured.err


@pytest.mark.parametrize("repo", [None, "open-source-fund/applications"], ids=["every-fund", "one-repo"])
def test_the_command_runs_the_flow_and_never_prints_a_credential(sandbox, sandbox_server, tmp_path, capsys, repo):
    env_file = tmp_path / "fund.env"
    argv = ["setup", "--env-file", str(env_file), "--no-browser", "--org", "open-source-fund", "--timeout", "60",
            "--webhook-url", "https://bot.open-source-fund.org/webhook", *(["--repo", repo] if repo else [])]
    status, form, posted, out = run_setup(argv, sandbox, sandbox_server.url, capsys, owner="open-source-fund")
    assert form.action.startswith("https://github.com/organizations/open-source-fund/settings/apps/new?state=")
    assert posted["hook_attributes"]["url"] == "https://bot.open-source-fund.org/webhook"
    assert status == [0]
    written = "GITHUB_APP_ID, GITHUB_PRIVATE_KEY, GITHUB_WEBHOOK_SECRET, GITHUB_API_URL" + (", FUNDBOT_REPO" if repo else "")
    assert f"Wrote {written} to {env_file}" in out
    assert f"https://github.com/apps/{sandbox.app.slug}" in out
    env = read_env_file(env_file)
    assert env.get("FUNDBOT_REPO") == repo
    # The last line says what makes a repository a fund, or which repository the deployment serves.
    last = out.strip().splitlines()[-1]
    assert (f"install it on {repo}" in last and "FUNDBOT_REPO" in last) if repo else \
        ".github/fund-bot.yml (an empty file will do" in last and "FUNDBOT_REPO" in last
    key_body = [line for line in env["GITHUB_PRIVATE_KEY"].split("\\n") if line and not line.startswith("-----")]
    assert [s for s in [env["GITHUB_WEBHOOK_SECRET"], *key_body] if s in out] == []


def readme_table() -> tuple[dict[str, str], set[str]]:
    """The administrators' guide's table headed `| permission | ...` (docs/administrators/create-the-app.md):
    the permissions with their access, and the events."""
    lines = (ROOT / "docs" / "administrators" / "create-the-app.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "| permission |" in line)
    permissions, events = {}, set()
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        name, access = [cell.strip() for cell in line.strip("|").split("|")][:2]
        if event := re.fullmatch(r"event `(\w+)`", name):
            if access == "subscribed":  # the others reach every App unasked (and may not be listed)
                events.add(event.group(1))
        else:
            permissions[name.strip("`")] = access
    return permissions, events


def test_app_yml_asks_for_what_the_readme_says():
    manifest = load_manifest(APP_YML)
    permissions, events = readme_table()
    assert manifest["default_permissions"] == permissions
    assert set(manifest["default_events"]) == events and len(manifest["default_events"]) == len(events)
    assert manifest["public"] is False


def test_github_would_take_app_yml(sandbox):
    # The sandbox refuses what GitHub refuses: a missing URL, an event without its permission ...
    assert sandbox.accept_manifest({**load_manifest(APP_YML), "redirect_url": "http://127.0.0.1:1/callback"})


@pytest.mark.parametrize("given, says", [
    ([], "is a placeholder (fund-bot.example.org is reserved for examples)"),
    (["--webhook-url", "https://bot.example.com/webhook"], "is a placeholder"),
    (["--webhook-url", "https://fundbot.test/webhook"], "is a placeholder"),
    (["--webhook-url", "https://bot.open-source-fund.org/"], "has the path '/', but the service takes deliveries at /webhook"),
    (["--webhook-url", "https://bot.open-source-fund.org/hooks/github"], "has the path '/hooks/github'"),
    (["--webhook-url", "bot.open-source-fund.org/webhook"], "is not an http(s) URL"),
], ids=["app.yml's placeholder", "example.com", ".test", "no path", "another path", "no scheme"])
def test_a_webhook_url_deliveries_would_not_reach_is_refused_before_anything_is_registered(tmp_path, capsys, given, says):
    argv = ["setup", "--env-file", str(tmp_path / ".env"), "--no-browser", "--timeout", "1", *given]
    assert main(argv, {}) == 2
    captured = capsys.readouterr()
    assert says in captured.err and "--force-url" in captured.err and captured.err.count("\n") == 1
    assert "Open http" not in captured.out and not (tmp_path / ".env").exists()


def test_force_url_registers_a_proxy_channel_and_says_to_change_it_later(sandbox, sandbox_server, tmp_path, capsys):
    # A smee.io channel (a path of its own) on a laptop is a reason to register another URL: told, not refused.
    argv = ["setup", "--env-file", str(tmp_path / ".env"), "--no-browser", "--timeout", "60", "--force-url",
            "--webhook-url", "https://smee.io/aBcD1234"]
    status, _, posted, out = run_setup(argv, sandbox, sandbox_server.url, capsys)
    assert posted["hook_attributes"]["url"] == "https://smee.io/aBcD1234" and status == [0]
    assert "The App's webhook URL is https://smee.io/aBcD1234: set the service's own" in out


def test_setup_refuses_a_repository_that_is_not_owner_name(tmp_path, capsys):
    argv = ["setup", "--env-file", str(tmp_path / ".env"), "--no-browser", "--repo", "just-a-name",
            "--webhook-url", "https://bot.open-source-fund.org/webhook"]
    assert main(argv, {}) == 2
    assert "--repo must be OWNER/NAME, not 'just-a-name'" in capsys.readouterr().err
