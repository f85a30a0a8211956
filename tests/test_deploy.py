"""Deployment files agree with each other: compose.yaml, fly.toml and render.yaml run the Procfile's
commands for web, worker and clock, with Redis; compose publishes only Caddy, which passes HTTPS to
`web` on the internal network; Heroku finds what its Python buildpack needs; the Dockerfile runs as a
user of its own. (No Docker engine, PaaS or Caddy runs here: the files are parsed, not deployed.)"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib

import pytest
import yaml

from deploy_files import (PROJECT_ROOT, caddy_site, compose, dockerfile, healthcheck, procfile,  # noqa: F401
                          render_services)

PROCESSES = {"web", "worker", "clock"}


def test_the_procfile_has_web_worker_and_clock():
    assert set(procfile()) == PROCESSES


def test_compose_runs_the_procfile_commands_with_two_workers_and_redis():
    services = compose()["services"]
    for name, command in procfile().items():
        assert services[name]["command"] == command, name
        assert services[name]["environment"]["FUNDBOT_REDIS_URL"].startswith("redis://redis:")
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["redis"]["image"].startswith("redis:")


def test_compose_publishes_only_caddy_which_proxies_https_to_web():
    services = compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"caddy"}, "plain HTTP stays on the compose network: only the TLS proxy is published"
    assert {p.split(":")[-1].split("/")[0] for p in services["caddy"]["ports"]} == {"80", "443"}
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in services["caddy"]["volumes"]
    assert any(v.endswith(":/data") for v in services["caddy"]["volumes"]), "the certificates are kept in a volume"
    assert "SITE_ADDRESS" in services["caddy"]["environment"]
    # web listens where the Caddyfile sends it: the image's PORT, exposed to the compose network only
    port = re.search(r"^\s+PORT=(\d+)", dockerfile(), re.MULTILINE).group(1)
    assert services["web"]["expose"] == [port]
    site = caddy_site()
    assert site["address"] == "{$SITE_ADDRESS}"
    assert site["directives"]["reverse_proxy"] == [f"web:{port}"]


def test_the_caddyfile_takes_the_largest_delivery_github_sends():
    # GitHub caps a webhook payload at 25 MB; a proxy limit below that would refuse real deliveries.
    lines = (PROJECT_ROOT / "Caddyfile").read_text()
    assert re.search(r"request_body\s*\{\s*max_size\s+25MB\s*\}", lines)


def test_platforms_route_by_readiness_and_restart_by_liveness():
    # /healthz answers 503 while the queue's Redis is down: what a platform routes (and deploys) by. A
    # check that only restarts (Docker's, in Swarm) asks /livez: a restart would not bring Redis back.
    from bot.web.app import LIVE_PATH, READY_PATH

    fly = tomllib.loads((PROJECT_ROOT / "fly.toml").read_text())
    assert [check["path"] for check in fly["http_service"]["checks"]] == [READY_PATH]
    assert [s["healthCheckPath"] for s in render_services().values() if "healthCheckPath" in s] == [READY_PATH]
    assert LIVE_PATH in healthcheck() and READY_PATH not in healthcheck()
    services = compose()["services"]
    # worker and clock run the same image but serve no HTTP: the image's check is off for them only.
    assert {name for name, s in services.items() if s.get("healthcheck", {}).get("disable")} == {"worker", "clock"}
    assert "healthcheck" not in services["web"]


def test_fly_runs_the_procfile_commands_and_only_web_takes_http():
    fly = tomllib.loads((PROJECT_ROOT / "fly.toml").read_text())
    assert {name: shlex.split(command) for name, command in fly["processes"].items()} == procfile()
    service = fly["http_service"]
    assert service["processes"] == ["web"]
    assert str(service["internal_port"]) == fly["env"]["PORT"]  # where gunicorn binds (bot.web.gunicorn_conf)
    assert service["auto_stop_machines"] in ("off", False), "GitHub's deliveries need a web process running"
    assert [check["path"] for check in service["checks"]] == ["/healthz"]
    assert fly["build"]["dockerfile"] == "Dockerfile"
    assert int(fly["env"]["WEB_CONCURRENCY"]) > 1  # so FUNDBOT_REDIS_URL (a secret) is needed, and said


def test_render_runs_the_procfile_commands_with_its_key_value_store():
    services = render_services()
    started = {s["startCommand"]: s for s in services.values() if "startCommand" in s}
    assert sorted(shlex.split(c) for c in started) == sorted(procfile().values())
    [web] = [s for s in started.values() if s["type"] == "web"]
    assert shlex.split(web["startCommand"]) == procfile()["web"] and web["healthCheckPath"] == "/healthz"
    assert sorted(s["type"] for s in started.values()) == ["web", "worker", "worker"]
    store = next(s for s in services.values() if s["type"] == "keyvalue")
    assert store["maxmemoryPolicy"] == "noeviction" and store["ipAllowList"] == []
    for service in started.values():
        assert service["runtime"] == "python" and service["buildCommand"] == "pip install ."
        env = {v["key"]: v for v in service["envVars"] if "key" in v}
        assert env["FUNDBOT_REDIS_URL"]["fromService"] == {"type": "keyvalue", "name": store["name"],
                                                           "property": "connectionString"}
        assert {"GITHUB_APP_ID", "GITHUB_PRIVATE_KEY"} <= {k for k, v in env.items() if v.get("sync") is False}
    assert any(v.get("key") == "GITHUB_WEBHOOK_SECRET" and v.get("sync") is False for v in web["envVars"])


def test_heroku_and_render_are_told_the_python_the_image_runs():
    # Heroku's buildpack and Render read .python-version: the same Python as the Dockerfile's, one the
    # package supports.
    version = (PROJECT_ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.\d+", version)
    assert f"FROM python:{version}-slim" in dockerfile()
    requires = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11" and tuple(map(int, version.split("."))) >= (3, 11)


def test_herokus_requirements_file_installs_this_package(tmp_path):
    # Heroku's Python buildpack runs `pip install -r requirements.txt` in the app's root; it does not
    # read pyproject.toml by itself. The file names the project, so its dependencies are listed once.
    requirements = [l for l in (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
                    if l.strip() and not l.startswith("#")]
    assert requirements == ["."]
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index",
                    "--no-build-isolation", "--quiet", "--report", str(report), "-r", "requirements.txt"],
                   cwd=PROJECT_ROOT, check=True, timeout=300)
    installed = [item["metadata"]["name"] for item in json.loads(report.read_text())["install"]]
    assert installed == ["fund-bot"]


@pytest.mark.parametrize("url, verified", [("rediss://:secret@ec2.example.com:6380?ssl_cert_reqs=none", False),
                                           ("rediss://:secret@ec2.example.com:6380", True)],
                         ids=["heroku-self-signed", "verified"])
def test_a_redis_url_can_say_not_to_verify_a_self_signed_certificate(url, verified):
    # Heroku's Key-Value Store answers over TLS with a self-signed certificate: the docs append
    # `?ssl_cert_reqs=none` to its URL, and the processes' Redis client must take it from there.
    import ssl

    from bot.jobs.context import connect

    client = connect(url)
    try:
        connection = client.connection_pool.make_connection()
        assert (connection.cert_reqs == ssl.CERT_REQUIRED) is verified
    finally:
        client.close()


def test_the_image_runs_the_web_command_as_a_user_of_its_own():
    assert dockerfile().startswith("# ") and "FROM python:3.11-slim" in dockerfile()
    users = [l.split()[1] for l in dockerfile().splitlines() if l.startswith("USER ")]
    assert users and users[-1] != "root"
    cmd = next(l for l in dockerfile().splitlines() if l.startswith("CMD "))
    assert yaml.safe_load(cmd.removeprefix("CMD ")) == procfile()["web"]
