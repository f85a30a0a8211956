"""`fundbot setup`: GitHub's App-manifest flow, which registers the App and writes its credentials.

https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest

1. A page served on 127.0.0.1 posts the manifest (`app.yml`, its `redirect_url` pointing back at this
   server) to `https://HOST/settings/apps/new` (or an organisation's), with a random `state`.
2. The person, signed in to GitHub, names the App and creates it; GitHub redirects the browser back
   with `?code=…&state=…`.
3. The state must be this run's (another page cannot slip its own code in); the code is exchanged
   for the App's id, private key and webhook secret with `POST /app-manifests/{code}/conversions`,
   which needs no authentication: the code, good once and for an hour, is the proof.
4. They are written to an env file only its owner may read. Nothing here prints or logs them.
"""
from __future__ import annotations

import copy
import html
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import requests
import yaml
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from bot.config.settings import DEFAULT_API_URL, WEBHOOK_PATH

CALLBACK = "/callback"
# Host names reserved for examples and tests (RFC 2606, RFC 6761): no deployment answers there.
_RESERVED_NAMES = ("example.com", "example.net", "example.org", "localhost")
_RESERVED_TOPS = ("example", "test", "invalid", "localhost")


class SetupError(Exception):
    """The flow cannot go on; `str()` says why, in one line, without any credential."""


@dataclass(frozen=True)
class Target:
    """Where the App is registered: github.com or a GitHub Enterprise Server host, for the signed-in
    user or for an organisation."""

    host: str = "github.com"
    org: str | None = None
    api_url: str = DEFAULT_API_URL

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?", self.host):
            raise SetupError(f"--host must be a host name such as github.example.com, not {self.host!r}")
        if self.org is not None and not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})", self.org):
            raise SetupError(f"--org must be an organisation's login, not {self.org!r}")

    @property
    def new_app_url(self) -> str:
        owner = f"/organizations/{quote(self.org, safe='')}" if self.org else ""
        return f"https://{self.host}{owner}/settings/apps/new"

    @property
    def api(self) -> str:
        """The REST API's base: GitHub Enterprise Server serves it at `https://HOST/api/v3`."""
        if self.host != "github.com" and self.api_url == DEFAULT_API_URL:
            return f"https://{self.host}/api/v3"
        return self.api_url


@dataclass(frozen=True)
class Registered:
    """The App GitHub created (what may be shown of it: never its key or secrets)."""

    app_id: int
    slug: str
    html_url: str
    env_file: Path
    written: tuple[str, ...]  # the variables written


def load_manifest(path: Path) -> dict[str, Any]:
    """`app.yml`: the App's manifest (https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest#github-app-manifest-parameters)."""
    try:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise SetupError(f"cannot read the manifest {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise SetupError(f"the manifest {path} is not YAML: {err}") from None
    if not isinstance(manifest, dict):
        raise SetupError(f"the manifest {path} is not a mapping of the manifest's parameters")
    missing = [key for key in ("name", "url", "hook_attributes", "default_permissions", "default_events")
               if not manifest.get(key)]
    if missing:
        raise SetupError(f"the manifest {path} lacks {', '.join(missing)}")
    return manifest


def webhook_url_problem(url: str) -> str | None:
    """Why GitHub's deliveries would not reach the service at `url`, or None: not an http(s) URL, a host
    reserved for examples (app.yml's placeholder), or a path other than the service's `/webhook`."""
    parsed = urlparse(url)
    try:
        host = (parsed.hostname or "").lower()
    except ValueError:
        host = ""
    if parsed.scheme not in ("http", "https") or not host:
        return f"the webhook URL {url!r} is not an http(s) URL"
    if host in _RESERVED_NAMES or host.endswith(tuple(f".{name}" for name in _RESERVED_NAMES + _RESERVED_TOPS)):
        return (f"the webhook URL {url} is a placeholder ({host} is reserved for examples): give the service's "
                f"own with --webhook-url https://HOST{WEBHOOK_PATH}")
    if parsed.path != WEBHOOK_PATH:
        return (f"the webhook URL {url} has the path {parsed.path or '/'!r}, but the service takes deliveries at "
                f"{WEBHOOK_PATH}: give https://HOST{WEBHOOK_PATH}")
    return None


def env_values(app: Mapping[str, Any], api_url: str, repo: str | None = None) -> dict[str, str]:
    """The settings to write for the App GitHub answered the conversion with (and the applications
    repository, when the administrator named it)."""
    values = {"GITHUB_APP_ID": str(app["id"]), "GITHUB_PRIVATE_KEY": app["pem"].strip().replace("\n", "\\n")}
    if app.get("webhook_secret"):  # nullable in GitHub's description
        values["GITHUB_WEBHOOK_SECRET"] = app["webhook_secret"]
    if api_url != DEFAULT_API_URL:
        values["GITHUB_API_URL"] = api_url
    if repo:
        values["FUNDBOT_REPO"] = repo
    return values


def env_file_text(app: Mapping[str, Any], values: Mapping[str, str]) -> str:
    """The env file. Single quotes: the shell, Docker Compose and python-dotenv all take the value as
    it is (the key keeps literal `\\n`s, which `Settings` reads as newlines)."""
    for name, value in values.items():
        if "'" in value or "\n" in value:
            raise SetupError(f"GitHub's answer holds a {name} that cannot be written to an env file")
    lines = [f"# The GitHub App {app.get('slug')} ({app.get('html_url')}), registered by `fundbot setup`.",
             "# It holds the App's private key and webhook secret: keep it to yourself."]
    return "\n".join(lines + [f"{name}='{value}'" for name, value in values.items()]) + "\n"


def write_env_file(path: Path, text: str, *, force: bool = False) -> None:
    """Write `text` to `path`, whole or not at all, readable and writable by its owner only (0600). An
    existing file is replaced only with `force` (checked again at the last moment, without a race)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # exactly, whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        if force:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the file appeared meanwhile: never overwritten unasked
    finally:
        tmp.unlink(missing_ok=True)


class ManifestFlow:
    """One run of the flow: a server on 127.0.0.1 serving the page that posts the manifest, and taking
    GitHub's redirect. `with ManifestFlow(...) as flow:` starts it; `flow.url` is the page to open;
    `flow.wait()` returns the registered App once the redirect has been handled."""

    def __init__(self, manifest: Mapping[str, Any], target: Target, env_file: Path, *, force: bool = False,
                 port: int = 0, webhook_url: str | None = None, repo: str | None = None) -> None:
        self.target = target
        self.env_file = env_file
        self.force = force
        self.repo = repo
        self.state = secrets.token_urlsafe(24)
        self._manifest = copy.deepcopy(dict(manifest))
        if webhook_url:
            self._manifest.setdefault("hook_attributes", {})["url"] = webhook_url
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._result: Registered | None = None
        self._error: str | None = None
        self.url = ""

    def start(self) -> str:
        """Listen on 127.0.0.1 (only: the page carries the state); return the page's URL."""
        try:
            self._server = make_server("127.0.0.1", self._port, self._wsgi, threaded=True)
        except OSError as err:
            raise SetupError(f"cannot listen on 127.0.0.1:{self._port}: {err.strerror}") from None
        self.url = f"http://127.0.0.1:{self._server.server_port}/"
        self._manifest["redirect_url"] = self.url.rstrip("/") + CALLBACK
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fundbot-setup", daemon=True)
        self._thread.start()
        return self.url

    def wait(self, timeout: float | None = None) -> Registered:
        """Block until GitHub's redirect has been handled; raise `SetupError` if it failed or did not
        come within `timeout` seconds."""
        if not self._done.wait(timeout):
            raise SetupError(f"GitHub did not redirect back within {timeout:.0f} seconds; run setup again")
        if self._result is None:
            raise SetupError(self._error or "the setup failed")
        return self._result

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> ManifestFlow:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def webhook_url(self) -> str:
        """The webhook URL the App is registered with."""
        return str((self._manifest.get("hook_attributes") or {}).get("url", ""))

    @property
    def manifest(self) -> dict[str, Any]:
        """The manifest the page posts (app.yml, with the redirect back to this server)."""
        return copy.deepcopy(self._manifest)

    # --- the local server ---------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method == "GET" and request.path == "/":
            response = _page("Create Fund Bot's GitHub App", self._form())
        elif request.method == "GET" and request.path == CALLBACK:
            response = self._callback(request)
        else:
            response = _page("Not found", "<p>Nothing here.</p>", 404)
        return response(environ, start_response)

    def _form(self) -> str:
        action = f"{self.target.new_app_url}?state={quote(self.state)}"
        manifest = html.escape(json.dumps(self._manifest), quote=True)
        where = f"the organisation {html.escape(self.target.org)}" if self.target.org else "your account"
        return (f'<form method="post" action="{html.escape(action, quote=True)}">'
                f'<input type="hidden" name="manifest" value="{manifest}">'
                f"<p>This registers Fund Bot as a GitHub App of {where} on {html.escape(self.target.host)}: "
                "GitHub shows you its settings, you choose its name and create it, and GitHub sends you back "
                "here, where its credentials are written to a file on this machine.</p>"
                f'<button type="submit">Create the GitHub App on {html.escape(self.target.host)}</button></form>')

    def _callback(self, request: Request) -> Response:
        code, state = request.args.get("code", ""), request.args.get("state", "")
        if not hmac.compare_digest(state.encode(), self.state.encode()):
            # Not this run's redirect (a forged or stale link): refused, and this run goes on waiting.
            return _page("Not this setup", "<p>This link does not belong to the running setup (its state does "
                         "not match), so nothing was done.</p>", 400)
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", code):
            return _page("No code", "<p>GitHub's redirect carries no usable code.</p>", 400)
        with self._lock:  # one conversion: a code is good once, and so is this run
            if self._done.is_set():
                return _page("Already done", "<p>This setup has finished; you can close this tab.</p>", 410)
            try:
                self._result = self._convert(code)
            except SetupError as err:
                self._error = str(err)
            except Exception as err:  # the person must get an answer, and `wait` must return
                self._error = f"the setup failed: {type(err).__name__}"
            finally:
                self._done.set()
        if self._result is None:
            return _page("Setup failed", f"<p>{html.escape(self._error or '')}</p>", 502)
        return _page("Fund Bot's App is registered",
                     f"<p>The App <a href=\"{html.escape(self._result.html_url)}\">"
                     f"{html.escape(self._result.slug)}</a> is registered; its credentials are in "
                     f"<code>{html.escape(str(self.env_file))}</code>. You can close this tab.</p>")

    def _convert(self, code: str) -> Registered:
        """:calls: `POST /app-manifests/{code}/conversions` (no authentication)"""
        url = f"{self.target.api}/app-manifests/{code}/conversions"
        try:
            answer = requests.post(url, headers={"Accept": "application/vnd.github+json",
                                                 "X-GitHub-Api-Version": "2022-11-28",
                                                 "User-Agent": "fund-bot-setup"}, timeout=30)
        except requests.RequestException as err:
            raise SetupError(f"could not reach {self.target.api}: {type(err).__name__}") from None
        if answer.status_code != 201:
            raise SetupError(f"GitHub answered {answer.status_code} to the code's conversion "
                             f"({_message(answer)}); run setup again")
        app = answer.json()
        if not isinstance(app.get("id"), int) or not isinstance(app.get("pem"), str):
            raise SetupError("GitHub's answer to the code's conversion lacks the App's id or key")
        values = env_values(app, self.target.api, self.repo)
        try:
            write_env_file(self.env_file, env_file_text(app, values), force=self.force)
        except OSError as err:
            why = "appeared meanwhile (use --force to replace it)" if isinstance(err, FileExistsError) else \
                f"cannot be written ({err.strerror})"
            # GitHub hands the key out once: say how to get the App's credentials another way.
            raise SetupError(f"{self.env_file} {why}. The App {app.get('html_url')} exists on GitHub: generate "
                             "a private key and set a webhook secret in its settings, or delete it and run setup "
                             "again") from None
        return Registered(app["id"], str(app.get("slug", "")), str(app.get("html_url", "")), self.env_file,
                          tuple(values))


def _message(answer: requests.Response) -> str:
    try:
        return str(answer.json().get("message", ""))[:200]
    except ValueError:
        return answer.reason or ""


def _page(title: str, body: str, status: int = 200) -> Response:
    return Response(f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
                    f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>", status=status,
                    mimetype="text/html", headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
