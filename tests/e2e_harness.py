"""The real service as the Procfile runs it (gunicorn, in its own process), fed by a sandbox GitHub.

`Service` starts the Procfile's `web:` command with the environment a deployment sets (the
sandbox's URL as GITHUB_API_URL, an App key and webhook secret made for this run only) and stops
it. `Fund` drives it as GitHub would: it posts signed deliveries over HTTP, waits until the sandbox
shows that the service has acted on them (polling, with a deadline), posts the follow-up
deliveries GitHub sends for the bot's own writes, and runs the sweep. Used by tests/test_e2e.py
and benchmarks/e2e_figures.py; nothing here asserts.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import processes
import requests
from deploy_files import PROJECT_ROOT, procfile

from bot.sandbox import Delivery
from bot.demo.world import FUND_REPO, World, outside_env
from bot.jobs.sweep import SweepResult, sweep


# Settings the service would otherwise take from the developer's shell.
_INHERITED = ("GITHUB_", "FUNDBOT_", "WEB_CONCURRENCY", "GUNICORN_", "HOST", "PORT")


class ServiceError(Exception):
    """The service did not start, or did not act on a delivery in time."""


def procfile_command(process: str = "web", path: str | None = None) -> list[str]:
    """The command of `process` in the Procfile, split as a shell would. A program that is not on
    `path` (a user-site install) is run as this interpreter's module of that name."""
    argv = procfile().get(process)
    if argv is None:
        raise ServiceError(f"the Procfile has no {process!r} process")
    if shutil.which(argv[0], path=path):
        return argv
    return [sys.executable, "-m", "bot.cli" if argv[0] == "fundbot" else argv[0], *argv[1:]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    """`with Service(api_url, app_id, app_key, log_path) as service:` runs gunicorn on 127.0.0.1."""

    def __init__(self, api_url: str, app_id: int, app_key: str, log_path: Path, **env: str) -> None:
        self.secret = secrets.token_hex(20)  # made for this run, never written to a file
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        environ = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED)}
        environ.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}",  # this interpreter's gunicorn
            HOST="127.0.0.1", PORT=str(self.port), GITHUB_API_URL=api_url, GITHUB_APP_ID=str(app_id),
            GITHUB_PRIVATE_KEY=app_key, GITHUB_WEBHOOK_SECRET=self.secret, FUNDBOT_LOG_LEVEL="WARNING",
            FUNDBOT_REPO=FUND_REPO,  # one fund, run by the server's rules (as World seeds it)
            **outside_env(api_url),  # the evidence pack's outside services, served by the sandbox too
        )
        environ.update(env)
        self._environ = environ
        self._process: subprocess.Popen[bytes] | None = None
        self._http = requests.Session()

    def start(self, timeout: float = 30.0, *, tries: int = 2) -> Service:
        log = self.log_path.open("wb")
        self._process = subprocess.Popen(procfile_command("web", self._environ["PATH"]), cwd=PROJECT_ROOT,
                                         env=self._environ, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                if "Address already in use" in self.log() and tries > 1:  # the free port was taken meanwhile
                    self.port = free_port()
                    self.url = f"http://127.0.0.1:{self.port}"
                    self._environ["PORT"] = str(self.port)
                    return self.start(timeout, tries=tries - 1)
                raise ServiceError(f"gunicorn did not start:\n{self.log()}")
            try:
                if self._http.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:  # not up yet: refused, reset, timed out — any of them
                pass
            time.sleep(0.05)
        self.stop()
        raise ServiceError(f"gunicorn did not answer /healthz within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        """SIGTERM to the gunicorn master this object started (it stops its worker), then wait."""
        if self._process is None:
            return
        self._http.close()  # an idle keep-alive connection would hold up gunicorn's graceful stop
        processes.stop(self._process, grace=35)  # gunicorn's graceful_timeout is 30 s
        self._process = None

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def post(self, delivery: Delivery) -> tuple[int, dict]:
        """Post one delivery as GitHub does: the raw body, signed with the webhook secret."""
        response = self._http.post(f"{self.url}/webhook", data=delivery.body(), headers=delivery.headers(self.secret),
                                   timeout=10)
        return response.status_code, response.json()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def failed(self, delivery_id: str) -> bool:
        """The service logged that it gave up on this delivery (left for the sweep)."""
        return any("delivery failed" in line and f"delivery={delivery_id}" in line for line in self.log().splitlines())


class Worker:
    """`with Worker(api_url, app_id, app_key, redis_url, log_path) as worker:` runs the Procfile's
    `worker` (`fundbot worker`) in its own process; `kill()` is SIGKILL, as a lost machine would be."""

    def __init__(self, api_url: str, app_id: int, app_key: str, redis_url: str, log_path: Path,
                 **env: str | None) -> None:
        environ: dict[str, str | None] = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED)}
        environ.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}",
                       GITHUB_API_URL=api_url, GITHUB_APP_ID=str(app_id), GITHUB_PRIVATE_KEY=app_key,
                       FUNDBOT_REDIS_URL=redis_url, FUNDBOT_LOG_LEVEL="WARNING", FUNDBOT_REPO=FUND_REPO)
        environ.update(env)
        self._environ = {k: v for k, v in environ.items() if v is not None}  # FUNDBOT_REPO=None: every fund
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> Worker:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(procfile_command("worker", self._environ["PATH"]), cwd=PROJECT_ROOT,
                                             env=self._environ, stdout=log, stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def terminate(self) -> None:
        """SIGTERM without waiting: several workers told at once stop side by side (see `stop`)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()

    def stop(self) -> None:
        """SIGTERM (RQ finishes the running job first: the tests' jobs take well under 10 s), then
        SIGKILL if it lingers. (An idle worker lingers up to 60 s: RQ 3.0 with redis-py 8 waits for its
        pubsub thread on the way out; see tests/redis_fixtures.py.)"""
        if self._process is None:
            return
        processes.stop(self._process, grace=10)
        self._process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Worker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Fund:
    """The fund's repository on the sandbox, served by `service`; `world` seeds the sandbox and
    runs the sweep in this process (its own in-process service is not used)."""

    def __init__(self, world: World, service: Service, *, settle_timeout: float = 30.0, repair: bool = False) -> None:
        self.world = world
        self.sandbox = world.sandbox
        self.service = service
        self.settle_timeout = settle_timeout
        self.repair = repair  # a delivery the service gave up on is finished by the sweep; else an error
        self.repaired: list[Delivery] = []
        self.answers: list[tuple[Delivery, int, dict]] = []  # every delivery posted, with its answer

    def post(self, delivery: Delivery) -> dict:
        status, body = self.service.post(delivery)
        self.answers.append((delivery, status, body))
        return body

    def act(self, delivery: Delivery, done: Callable[[], bool]) -> dict:
        """Post what a person's action caused, wait until `done()` holds, then post GitHub's
        follow-up deliveries. Returns the service's answer to the delivery."""
        answer = self.post(delivery)
        self.wait(delivery, done)
        self.flush()
        return answer

    def wait(self, delivery: Delivery, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.settle_timeout
        while not done():
            if self.service.failed(delivery.id):
                if not self.repair:
                    raise ServiceError(f"the service gave up on {delivery.event}.{delivery.action}:\n"
                                       f"{self.service.log()}")
                self.sweep_until_ok()
                self.repaired.append(delivery)
                if done():
                    return
                raise ServiceError(f"{delivery.event}.{delivery.action} failed and the sweep did not finish it")
            if time.monotonic() > deadline:
                raise ServiceError(f"{delivery.event}.{delivery.action} not acted on within {self.settle_timeout} s:\n"
                                   f"{self.service.log()}")
            time.sleep(0.02)

    def flush(self) -> None:
        """Post the deliveries GitHub queued since (the bot's own writes, labels of forms ...)."""
        while pending := self.sandbox.pending_deliveries():
            for delivery in pending:
                self.post(delivery)

    def sweep(self) -> SweepResult:
        """One run of the sweep, as `fundbot sweep` does, on the sandbox's clock."""
        result = sweep(self.world.context, self.world.github.for_repository(FUND_REPO), FUND_REPO)
        self.flush()
        return result

    def sweep_until_ok(self, tries: int = 3) -> SweepResult:
        """Sweep until a run finishes everything (a later run picks up what a failed one left)."""
        for _ in range(tries):
            result = self.sweep()
            if result.ok:
                return result
        raise ServiceError(f"the sweep kept failing: {result.failures}")
