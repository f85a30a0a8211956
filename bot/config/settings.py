"""Settings: the environment read once, validated, and frozen.

Nothing here runs at import time; `Settings.from_env` is called by the entry points (the WSGI
factory and the CLI) with the environment they were given, so tests pass a plain dict.
Every missing or malformed variable is found in one reading: `SettingsError` lists them all, one line
each naming its variable, so an operator learns every setting to fix from one start, not one per restart.
"""
from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from cryptography.hazmat.primitives import serialization

from bot.logs import LogFormat

# What the package ships (any install, editable or not, has them): the default rules, the issue forms
# a fund starts from, the App's manifest for `fundbot setup`. The repository is a fund's template, so
# the rules and the forms have one copy, at its top (`rules/`, `.github/ISSUE_TEMPLATE/`); a wheel
# carries them inside the package (pyproject.toml maps them to `bot/defaults/`).
DEFAULTS_DIR = Path(__file__).resolve().parent.parent / "defaults"
_CHECKOUT = DEFAULTS_DIR.parent.parent  # the repository's top, when the package runs from a checkout


def _shipped(installed: Path, in_checkout: Path) -> Path:
    """The folder a wheel installed inside the package, else the checkout's own."""
    return installed if installed.is_dir() else in_checkout


DEFAULT_RULES_DIR = _shipped(DEFAULTS_DIR / "rules", _CHECKOUT / "rules")
DEFAULT_TEMPLATES_DIR = _shipped(DEFAULTS_DIR / "ISSUE_TEMPLATE", _CHECKOUT / ".github" / "ISSUE_TEMPLATE")
DEFAULT_MANIFEST = DEFAULTS_DIR / "app.yml"
DEFAULT_API_URL = "https://api.github.com"
WEBHOOK_PATH = "/webhook"  # where the service takes GitHub's deliveries (`bot.web.app`)
# The outside services the evidence pack reads (issue 21), as their operators publish them; tests and
# `fundbot demo` point them at the sandbox.
OUTSIDE_URLS = {"FUNDBOT_SCORECARD_URL": "https://api.scorecard.dev", "FUNDBOT_DEPSDEV_URL": "https://api.deps.dev",
                "FUNDBOT_PYPISTATS_URL": "https://pypistats.org", "FUNDBOT_NPM_URL": "https://api.npmjs.org"}

T = TypeVar("T")
REPO_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


class SettingsError(Exception):
    """Settings are missing or malformed: `problems` holds one line per variable, each starting with its
    name; `variable` is the first. `str()` is that one line when there is one problem, else a count
    followed by the lines."""

    def __init__(self, variable: str, reason: str, *, more: tuple[str, ...] = ()) -> None:
        self.variable = variable
        self.problems = (f"{variable} {reason}", *more)
        super().__init__(self.problems[0] if len(self.problems) == 1 else
                         f"{len(self.problems)} settings to fix:\n" + "\n".join(f"  {line}" for line in self.problems))

    @classmethod
    def every(cls, errors: list["SettingsError"]) -> "SettingsError":
        """One error listing the problems of `errors`, in order."""
        lines = tuple(line for err in errors for line in err.problems)
        first = errors[0]
        return cls(first.variable, first.problems[0].removeprefix(first.variable + " "), more=lines[1:])


class Need(enum.Flag):
    """What an entry point needs from the environment."""

    NOTHING = 0
    WEBHOOK_SECRET = enum.auto()
    APP = enum.auto()  # GITHUB_APP_ID and a private key
    APP_OR_TOKEN = enum.auto()  # either the App credentials or GITHUB_TOKEN
    REPO = enum.auto()  # FUNDBOT_REPO
    REDIS = enum.auto()  # FUNDBOT_REDIS_URL
    WEB_SCALE = enum.auto()  # WEB_CONCURRENCY > 1 only with FUNDBOT_REDIS_URL

    @classmethod
    def server(cls) -> "Need":
        return cls.WEBHOOK_SECRET | cls.APP | cls.WEB_SCALE


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment (SPEC §8)."""

    api_url: str = DEFAULT_API_URL
    app_id: int | None = None
    private_key: str | None = field(default=None, repr=False)
    private_key_previous: str | None = field(default=None, repr=False)  # still accepted for seals while rotating
    webhook_secret: bytes | None = field(default=None, repr=False)
    webhook_secret_previous: bytes | None = field(default=None, repr=False)  # accepted too, while rotating
    token: str | None = field(default=None, repr=False)
    repo: str | None = None
    rules_dir: Path = DEFAULT_RULES_DIR
    templates_dir: Path = DEFAULT_TEMPLATES_DIR
    queue_size: int = 1000
    workers: int = 4
    sweep_interval: int = 3600
    max_retry_wait: float = 60.0
    body_timeout: float = 10.0  # seconds a delivery's body may take to arrive
    lock_timeout: float = 30.0  # seconds a lock outlives a process that died holding it (renewed while held)
    config_ttl: float = 60.0  # seconds a fund's configuration is used before it is read again (a push: at once)
    content_limits: tuple[int, int] = (80, 500)  # GitHub's content creations allowed a minute, an hour
    dashboard_token: str | None = field(default=None, repr=False)
    dashboard_ttl: int = 30  # seconds the dashboard's data is kept before GitHub is asked again
    metrics_token: str | None = field(default=None, repr=False)  # GET /metrics needs it when set
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.TEXT  # FUNDBOT_LOG_FORMAT: text (key=value) or json (one object a line)
    redis_url: str | None = field(default=None, repr=False)  # queue, delivery ids and locks shared by processes
    web_processes: int = 1  # WEB_CONCURRENCY: more than one needs Redis
    cache_file: Path | None = None  # ETags kept between runs of `fundbot sweep`
    scorecard_url: str = OUTSIDE_URLS["FUNDBOT_SCORECARD_URL"]  # OpenSSF Scorecard's API
    depsdev_url: str = OUTSIDE_URLS["FUNDBOT_DEPSDEV_URL"]  # deps.dev's API
    pypistats_url: str = OUTSIDE_URLS["FUNDBOT_PYPISTATS_URL"]  # pypistats.org
    npm_url: str = OUTSIDE_URLS["FUNDBOT_NPM_URL"]  # npm's downloads API

    @property
    def webhook_secrets(self) -> tuple[bytes, ...]:
        """The secrets a delivery may be signed with: the current one first, then the previous one."""
        return tuple(s for s in (self.webhook_secret, self.webhook_secret_previous) if s)

    @property
    def has_app(self) -> bool:
        return self.app_id is not None and self.private_key is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str], need: Need = Need.NOTHING) -> "Settings":
        """Read and validate the settings; raise `SettingsError` naming every bad or missing variable."""
        env = {k: v for k, v in environ.items() if v is not None and v.strip() != ""}
        errors: list[SettingsError] = []

        def read(parse: Callable[..., T], *args: Any, default: T) -> T:
            try:
                return parse(*args)
            except SettingsError as err:
                errors.append(err)
                return default

        api_url = read(_api_url, env, default=DEFAULT_API_URL)
        app_id = read(_app_id, env, default=None)
        private_key = read(_read_private_key, env, default=None)
        previous_key = read(_read_private_key, env, "GITHUB_PRIVATE_KEY_PREVIOUS", default=None)
        secret = env.get("GITHUB_WEBHOOK_SECRET")
        previous = env.get("GITHUB_WEBHOOK_SECRET_PREVIOUS")
        repo = read(_repo, env, default=None)
        rules_dir = read(_folder, env, "FUNDBOT_RULES", DEFAULT_RULES_DIR, default=DEFAULT_RULES_DIR)
        templates_dir = read(_folder, env, "FUNDBOT_TEMPLATES", DEFAULT_TEMPLATES_DIR, default=DEFAULT_TEMPLATES_DIR)

        def number(name: str, default: int) -> int:
            return read(_positive_int, env, name, default, default=default)

        settings = cls(
            api_url=api_url,
            app_id=app_id,
            private_key=private_key,
            private_key_previous=previous_key,
            webhook_secret=secret.encode() if secret else None,
            webhook_secret_previous=previous.encode() if previous else None,
            token=env.get("GITHUB_TOKEN"),
            repo=repo,
            rules_dir=rules_dir,
            templates_dir=templates_dir,
            queue_size=number("FUNDBOT_QUEUE_SIZE", cls.queue_size),
            workers=number("FUNDBOT_WORKERS", cls.workers),
            sweep_interval=number("FUNDBOT_SWEEP_INTERVAL", cls.sweep_interval),
            max_retry_wait=float(number("FUNDBOT_MAX_RETRY_WAIT", int(cls.max_retry_wait))),
            body_timeout=float(number("FUNDBOT_BODY_TIMEOUT", int(cls.body_timeout))),
            lock_timeout=float(number("FUNDBOT_LOCK_TIMEOUT", int(cls.lock_timeout))),
            config_ttl=float(number("FUNDBOT_CONFIG_TTL", int(cls.config_ttl))),
            content_limits=read(_content_limits, env, cls.content_limits, default=cls.content_limits),
            dashboard_token=env.get("FUNDBOT_DASHBOARD_TOKEN"),
            metrics_token=env.get("FUNDBOT_METRICS_TOKEN"),
            dashboard_ttl=number("FUNDBOT_DASHBOARD_TTL", cls.dashboard_ttl),
            log_level=read(_log_level, env, default=cls.log_level),
            log_format=read(_log_format, env, default=cls.log_format),
            redis_url=read(_redis_url, env, default=None),
            web_processes=number("WEB_CONCURRENCY", 1),
            cache_file=Path(env["FUNDBOT_CACHE_FILE"]) if "FUNDBOT_CACHE_FILE" in env else None,
            scorecard_url=_http_url(env, "FUNDBOT_SCORECARD_URL"),
            depsdev_url=_http_url(env, "FUNDBOT_DEPSDEV_URL"),
            pypistats_url=_http_url(env, "FUNDBOT_PYPISTATS_URL"),
            npm_url=_http_url(env, "FUNDBOT_NPM_URL"),
        )
        # What `need` calls for, unless the variable is already named above as malformed.
        named = {err.variable for err in errors}
        errors += [err for err in settings.missing(need) if err.variable not in named
                   and not (err.variable == "GITHUB_PRIVATE_KEY" and "GITHUB_PRIVATE_KEY_PATH" in named)]
        if errors:
            raise SettingsError.every(errors)
        return settings

    def require(self, need: Need) -> None:
        """Raise `SettingsError` naming every variable `need` calls for that is not set."""
        missing = self.missing(need)
        if missing:
            raise SettingsError.every(missing)

    def missing(self, need: Need) -> list[SettingsError]:
        """One error for each variable `need` calls for that is not set."""
        errors: list[SettingsError] = []
        if Need.WEBHOOK_SECRET in need and self.webhook_secret is None:
            errors.append(SettingsError("GITHUB_WEBHOOK_SECRET", "is missing: set it to the App's webhook secret"))
        if Need.APP in need:
            errors += _app_missing(self)
        if Need.APP_OR_TOKEN in need and not self.token and not self.has_app:
            if self.app_id is not None or self.private_key is not None:
                errors += _app_missing(self)
            else:
                errors.append(SettingsError("GITHUB_TOKEN", "is missing: set it, or GITHUB_APP_ID and "
                                            "GITHUB_PRIVATE_KEY (or GITHUB_PRIVATE_KEY_PATH, a file holding the key)"))
        if Need.WEB_SCALE in need and self.web_processes > 1 and not self.redis_url:
            errors.append(SettingsError("WEB_CONCURRENCY", f"is {self.web_processes}: several web processes need "
                                        "FUNDBOT_REDIS_URL, to share delivery ids and locks"))
        if Need.REDIS in need and not self.redis_url:
            errors.append(SettingsError("FUNDBOT_REDIS_URL", "is missing: workers take their jobs from Redis"))
        if Need.REPO in need and self.repo is None:
            errors.append(SettingsError("FUNDBOT_REPO", "is missing: set it to OWNER/NAME of the applications "
                                        "repository"))
        return errors


def _app_missing(settings: Settings) -> list[SettingsError]:
    errors = []
    if settings.app_id is None:
        errors.append(SettingsError("GITHUB_APP_ID", "is missing: set it to the App's numeric ID (on the App's "
                                    "settings page, \"App ID\")"))
    if settings.private_key is None:
        errors.append(SettingsError("GITHUB_PRIVATE_KEY", "is missing: set it (PEM text) or GITHUB_PRIVATE_KEY_PATH "
                                    "(a file holding it)"))
    return errors


def _api_url(env: Mapping[str, str]) -> str:
    api_url = env.get("GITHUB_API_URL", DEFAULT_API_URL).rstrip("/")
    parsed = urlparse(api_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError("GITHUB_API_URL", f"is not an http(s) URL: {api_url!r}")
    return api_url


def _app_id(env: Mapping[str, str]) -> int | None:
    if "GITHUB_APP_ID" not in env:
        return None
    if not env["GITHUB_APP_ID"].strip().isdigit():
        raise SettingsError("GITHUB_APP_ID", "must be the App's numeric ID (on the App's settings page, \"App ID\")")
    return int(env["GITHUB_APP_ID"])


def _repo(env: Mapping[str, str]) -> str | None:
    repo = env.get("FUNDBOT_REPO")
    if repo is not None and not REPO_NAME.match(repo):
        raise SettingsError("FUNDBOT_REPO", f"must look like OWNER/NAME, not {repo!r}")
    return repo


def _folder(env: Mapping[str, str], name: str, default: Path) -> Path:
    folder = Path(env.get(name, str(default)))
    if not folder.is_dir():
        raise SettingsError(name, f"is not a folder: {str(folder)!r}")
    return folder


def _read_private_key(env: Mapping[str, str], variable: str = "GITHUB_PRIVATE_KEY") -> str | None:
    text, path = env.get(variable), env.get(f"{variable}_PATH")
    if text and path:
        raise SettingsError(f"{variable}_PATH", f"is set together with {variable}: set only one")
    if path:
        variable = f"{variable}_PATH"
        try:
            text = Path(path).read_text()
        except OSError as err:
            raise SettingsError(variable, f"cannot be read: {err.strerror}") from None
    if not text:
        return None
    # Hosting dashboards often store multi-line values with literal "\n".
    if "\\n" in text and "\n" not in text.strip():
        text = text.replace("\\n", "\n")
    try:
        serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise SettingsError(variable, "is not an unencrypted PEM private key") from None
    return text


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    if name not in env:
        return default
    value = env[name].strip()
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(name, f"must be a positive whole number, not {value!r}")
    return int(value)


def _content_limits(env: Mapping[str, str], default: tuple[int, int]) -> tuple[int, int]:
    if "FUNDBOT_CONTENT_LIMITS" not in env:
        return default
    value = env["FUNDBOT_CONTENT_LIMITS"].strip()
    minute, _, hour = value.partition("/")
    if not (minute.isdigit() and hour.isdigit() and 0 < int(minute) <= int(hour)):
        raise SettingsError("FUNDBOT_CONTENT_LIMITS", f"must be PER_MINUTE/PER_HOUR (github.com: 80/500), not {value!r}")
    return int(minute), int(hour)


def _http_url(env: Mapping[str, str], name: str) -> str:
    """An outside service's base URL (the real one unless set), without a trailing slash."""
    url = env.get(name, OUTSIDE_URLS[name]).strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(name, f"is not an http(s) URL: {url!r}")
    return url


def _redis_url(env: Mapping[str, str]) -> str | None:
    url = env.get("FUNDBOT_REDIS_URL")
    if url is None:
        return None
    if urlparse(url).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError("FUNDBOT_REDIS_URL", "must be a redis://, rediss:// or unix:// URL")
    return url


def _log_format(env: Mapping[str, str]) -> LogFormat:
    value = env.get("FUNDBOT_LOG_FORMAT", LogFormat.TEXT.value).strip().lower()
    try:
        return LogFormat(value)
    except ValueError:
        raise SettingsError("FUNDBOT_LOG_FORMAT", f"must be text or json, not {value!r}") from None


def _log_level(env: Mapping[str, str]) -> str:
    level = env.get("FUNDBOT_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError("FUNDBOT_LOG_LEVEL", f"must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    return level
