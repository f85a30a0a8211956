"""The tree shows gather → decide → apply, and the imports run one way (STYLE.md): web → jobs → policy,
jobs → github, views → github and policy. Policy imports neither jobs nor github nor web — its purity
is what lets the promises be tested as tables and state machines. Only bot/github/app.py imports PyGithub.

Configuration (`bot/config/`: the environment, the rules and forms on disk, a fund's YAML) is read
outside policy: config may import policy (it builds policy's typed rules) and github, and is imported
by the layers that start or run the work — cli, web, jobs, demo — never by policy, github, views
(they are handed what was read) or the sandbox. The CLI (`bot/cli/`) is an entry point: nothing in the
product imports it, and it reaches the sandbox only through demo. No module of bot/ imports itself
back through others: an import cycle is a layer boundary that does not hold.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
LAYERS = ("web", "jobs", "policy", "github", "views", "sandbox", "demo", "config", "cli", "outside")
# layer -> the layers of the product it must not import
FORBIDDEN = {
    "policy": {"web", "jobs", "github", "views", "sandbox", "demo", "config", "cli", "outside"},
    "github": {"web", "jobs", "views", "sandbox", "demo", "config", "cli", "outside"},
    "jobs": {"web", "views", "sandbox", "demo", "cli"},
    "views": {"web", "jobs", "sandbox", "demo", "config", "cli", "outside"},
    "web": {"sandbox", "demo", "cli"},
    "sandbox": {"web", "jobs", "policy", "github", "views", "demo", "config", "cli", "outside"},  # the fake GitHub knows
    # nothing of the product
    "demo": {"cli"},  # the product wired to the sandbox: the tests', the benchmarks' and `fundbot demo`'s
    "config": {"web", "jobs", "views", "sandbox", "demo", "cli"},
    "cli": {"sandbox"},
    # the services beyond GitHub the evidence pack reads (issue 21): plain HTTP, knowing nothing of the bot
    "outside": {"web", "jobs", "policy", "github", "views", "sandbox", "demo", "config", "cli"},
}
TESTS = Path(__file__).resolve().parent


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


def test_test_modules_share_helpers_never_each_other():
    # What several test modules need lives once: fixtures in conftest.py (and the *_fixtures modules it
    # loads), the vocabulary of the tables over decide in decide_tables.py, worlds in pipeline_world.py,
    # a fund's configuration in fund_config.py. A test module importing another would run its tests'
    # neighbours twice under a name pytest did not collect, and hide the helper where nobody looks.
    wrong = [f"tests/{path.name} imports {name}" for path in sorted(TESTS.glob("*.py"))
             for name in sorted(imports_of(path)) if name.split(".")[0].startswith("test_")]
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


def module_of(path: Path) -> str:
    """`bot/jobs/handle.py` -> `bot.jobs.handle`; a package's `__init__.py` is the package."""
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, dict[str, int]]:
    """Every module of bot/ -> the modules of bot/ it imports (and the first line that does), at the top
    or inside a function alike: `from bot.x import name` is `bot.x`, or `bot.x.name` when that is a module."""
    paths = {module_of(p): p for p in BOT.rglob("*.py")}
    graph: dict[str, dict[str, int]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the module's package, `level - 1` packages up
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                targets = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in paths:  # the longest prefix that is a module of bot/
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.setdefault(target, node.lineno)
        graph[name] = edges
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[set[str]]:
    """The components of more than one module in which each reaches every other (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return components


def describe_cycle(component: set[str], graph: dict[str, dict[str, int]]) -> str:
    """The modules of a cycle, and each import that keeps them in it (`path:line imports module`)."""
    paths = {module_of(p): p.relative_to(BOT.parent) for p in BOT.rglob("*.py")}
    imports = [f"  {paths[name]}:{line} imports {target}"
               for name in sorted(component) for target, line in sorted(graph[name].items()) if target in component]
    return " ↔ ".join(sorted(component)) + "\n" + "\n".join(imports)


def package_of(module: str) -> str:
    """The top-level package of bot/ a module is in (`bot.jobs.handle` -> `jobs`); `bot` for the flat ones."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (BOT / parts[-1]).is_dir() else "bot"


@pytest.mark.parametrize("package", (*LAYERS, "bot"))
def test_no_import_cycles(package):
    """No cycle touches the package's modules (one case per package, so a failure says whose it is)."""
    graph = import_graph()
    cycles = [c for c in strongly_connected(graph) if package in {package_of(module) for module in c}]
    assert not cycles, "import cycles:\n" + "\n".join(describe_cycle(c, graph) for c in cycles)


@pytest.mark.parametrize("edges, cycles", [
    ({"a": {}, "b": {"a": 1}}, []),
    ({"a": {"b": 1}, "b": {"a": 1}}, [{"a", "b"}]),
    ({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}, [{"a", "b", "c"}]),
    ({"a": {"b": 1}, "b": {"a": 1}, "c": {"d": 1}, "d": {"c": 1}}, [{"a", "b"}, {"c", "d"}]),
], ids=["a chain", "two modules", "three, and one that only imports them", "two separate cycles"])
def test_cycles_are_found(edges, cycles):
    assert sorted(map(sorted, strongly_connected(edges))) == sorted(map(sorted, cycles))
