"""Deployment files agree with each other: compose.yaml runs the Procfile's commands for web, worker
and clock, with Redis; the Dockerfile runs as a user of its own. (No Docker engine runs here, so the
image itself is not built by the tests.)"""
from __future__ import annotations

import shlex

import yaml

from e2e_harness import PROJECT_ROOT


def procfile() -> dict[str, list[str]]:
    lines = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    return {name.strip(): shlex.split(command) for name, _, command in (l.partition(":") for l in lines if l.strip())}


def test_the_procfile_has_web_worker_and_clock():
    assert set(procfile()) == {"web", "worker", "clock"}


def test_compose_runs_the_procfile_commands_with_two_workers_and_redis():
    compose = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
    services = compose["services"]
    for name, command in procfile().items():
        assert services[name]["command"] == command, name
        assert services[name]["environment"]["FUNDBOT_REDIS_URL"].startswith("redis://redis:")
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["redis"]["image"].startswith("redis:")


def test_the_image_runs_the_web_command_as_a_user_of_its_own():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "FROM python:3.11-slim" in dockerfile
    users = [l.split()[1] for l in dockerfile.splitlines() if l.startswith("USER ")]
    assert users and users[-1] != "root"
    cmd = next(l for l in dockerfile.splitlines() if l.startswith("CMD "))
    assert yaml.safe_load(cmd.removeprefix("CMD ")) == procfile()["web"]
