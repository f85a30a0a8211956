"""The tree shows gather → decide → apply, and the imports run one way (STYLE.md): web → jobs → policy,
jobs → github, views → github and policy. Policy imports neither jobs nor github nor web — its purity
is what lets the promises be tested as tables and state machines. Only bot/github/app.py imports PyGithub."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
LAYERS = ("web", "jobs", "policy", "github", "views", "sandbox", "demo")
# layer -> the layers of the product it must not import
FORBIDDEN = {
    "policy": {"web", "jobs", "github", "views", "sandbox"},
    "github": {"web", "jobs", "views", "sandbox"},
    "jobs": {"web", "views", "sandbox"},
    "views": {"web", "jobs", "sandbox"},
    "web": {"sandbox"},
    "sandbox": {"web", "jobs", "policy", "github", "views", "demo"},  # the fake GitHub knows nothing of the product
    "demo": set(),  # the product wired to the sandbox: the tests', the benchmarks' and `fundbot demo`'s
}


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(layer: str) -> list[Path]:
    return sorted((BOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", LAYERS)
def test_imports_run_one_way(layer):
    wrong = []
    for path in modules(layer):
        for name in imports_of(path):
            parts = name.split(".")
            if parts[0] == "bot" and len(parts) > 1 and parts[1] in FORBIDDEN[layer]:
                wrong.append(f"{path.relative_to(BOT.parent)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_only_the_gateway_imports_pygithub():
    users = [p.relative_to(BOT.parent) for p in BOT.rglob("*.py") if any(n.split(".")[0] == "github"
                                                                        for n in imports_of(p))]
    assert [str(p) for p in users] == ["bot/github/app.py"]


def test_no_flat_modules_beyond_the_entry_points():
    flat = sorted(p.name for p in BOT.glob("*.py"))
    # app.py: SPEC §8's entry point; setup.py: `fundbot setup`, registering the App (process set-up);
    # metrics.py: what every process counts for /metrics, as logs.py is what every process logs
    assert flat == ["__init__.py", "app.py", "logs.py", "metrics.py", "setup.py"]
