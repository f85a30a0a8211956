"""What the deployment files say, read as data: the Procfile's commands, the Dockerfile (and its
HEALTHCHECK), compose.yaml, the Caddyfile's site block and render.yaml's services. Read by the tests of
the recipes (tests/test_deploy.py), the installed package (tests/test_install.py) and the service the
end-to-end tests run (tests/e2e_harness.py)."""
from __future__ import annotations

import shlex
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout: Procfile, compose.yaml, Dockerfile


def procfile() -> dict[str, list[str]]:
    lines = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    return {name.strip(): shlex.split(command) for name, _, command in (l.partition(":") for l in lines if l.strip())}


def dockerfile() -> str:
    return (PROJECT_ROOT / "Dockerfile").read_text()


def compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())


def caddy_site() -> dict:
    """The Caddyfile's one site block: its address and its directives with their arguments (comments
    and nested blocks' contents left out)."""
    lines = [l.split("#")[0].strip() for l in (PROJECT_ROOT / "Caddyfile").read_text().splitlines()]
    lines = [l for l in lines if l]
    assert lines[0].endswith("{") and lines[-1] == "}", "one site block"
    directives, depth = {}, 0
    for line in lines[1:-1]:
        if depth == 0:
            words = line.rstrip("{").split()
            directives[words[0]] = words[1:]
        depth += line.count("{") - line.count("}")
    return {"address": lines[0].rstrip("{").strip(), "directives": directives}


def healthcheck() -> str:
    """The Dockerfile's HEALTHCHECK command (shell form), its lines joined."""
    text = dockerfile().replace("\\\n", " ")
    line = next(l for l in text.splitlines() if l.startswith("HEALTHCHECK "))
    return line.split(" CMD ", 1)[1].strip()


def render_services() -> dict[str, dict]:
    blueprint = yaml.safe_load((PROJECT_ROOT / "render.yaml").read_text())
    return {service["name"]: service for service in blueprint["services"]}
