"""MkDocs hooks for the documentation site (`hooks:` in mkdocs.yml).

The rules reference is generated from the rules' JSON schemas (`bot/config/schemas/rules/`, the only
place their keys and descriptions are written: the service checks the rules against them) and the
values the package ships (`rules/`), each time the site is built — so it is never
written twice and cannot fall behind. The page exists only in the built site, at
`administrators/rules-reference.md`. The JSON schema of a fund's `.github/fund-bot.yml`, which editors
read through a `# yaml-language-server: $schema=…` line, is generated from the same schemas by the
package itself (`bot.config.fund_schema`) and published with the site at `schemas/fund-bot.schema.json`.
Snippets (`--8<--`, text the docs take from README.md, CHANGELOG.md and the package's files) are read
from the repository's root wherever mkdocs is started.

`python scripts/mkdocs_hooks.py` prints the generated page.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "bot" / "config" / "schemas" / "rules"
DEFAULTS_DIR = ROOT / "rules"  # the default rules: the one copy, at the top of the repository (a fund's template)
PAGE = "administrators/rules-reference.md"
ORDER = ("stages", "eligibility", "funding", "reports", "evidence", "fund")  # as a fund administrator meets them
NOT_SHOWN = object()


def on_config(config):  # noqa: ANN001, ANN201 - MkDocs' hook signature
    """Snippets are read from the repository's root, not from the directory mkdocs was started in."""
    snippets = config["mdx_configs"].setdefault("pymdownx.snippets", {})
    snippets["base_path"] = [str(ROOT)]
    return config


def on_files(files, config):  # noqa: ANN001, ANN201 - MkDocs' hook signature
    """Add the rules reference and the fund file's JSON schema, generated now, to the site."""
    import sys

    from mkdocs.structure.files import File

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # this checkout's package, whatever is installed
    from bot.config.fund_schema import SCHEMA_SITE_PATH, fund_file_schema

    files.append(File.generated(config, PAGE, content=render()))
    files.append(File.generated(config, SCHEMA_SITE_PATH,
                                content=json.dumps(fund_file_schema(), indent=2, ensure_ascii=False) + "\n"))
    return files


# --- the page ----------------------------------------------------------------------------------


def render(schema_dir: Path = SCHEMA_DIR, defaults_dir: Path = DEFAULTS_DIR) -> str:
    """The rules reference in Markdown: one table per file, then the types the files share."""
    names = sorted((p.name.removesuffix(".schema.json") for p in schema_dir.glob("*.schema.json")),
                   key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    out = [
        "# Rules reference",
        "",
        "Every key of the rules, generated from the JSON schemas in `bot/config/schemas/rules/` when this",
        "site is built: the service, `fundbot validate` and `fundbot validate --repo` check the rules",
        "against these schemas, so this page says exactly what they accept. Unknown keys are errors, and",
        "every problem in every file is reported at once. *Shipped* is the value in the default rules the",
        "package ships (`rules/`, or the folder `FUNDBOT_RULES` names). A fund's",
        "`.github/fund-bot.yml` holds any of these files' contents under the file's name as a top-level key",
        "(`stages:`, `eligibility:` …), merged over the server's key by key (see",
        "[Many funds on one App](many-funds.md)); its JSON schema, for editors, is",
        "[`schemas/fund-bot.schema.json`](../schemas/fund-bot.schema.json).",
        "",
    ]
    for name in names:
        schema = json.loads((schema_dir / f"{name}.schema.json").read_text(encoding="utf-8"))
        shipped_path = defaults_dir / f"{name}.yml"
        shipped = yaml.safe_load(shipped_path.read_text(encoding="utf-8")) if shipped_path.exists() else {}
        out += [f"## `{name}.yml`", ""]
        if schema.get("description"):
            out += [_cell(schema["description"]), ""]
        out += [f"In a fund's `.github/fund-bot.yml`: the top-level key `{name}`.", ""]
        out += _table(name, schema, shipped)
        for def_name, definition in schema.get("$defs", {}).items():
            out += ["", f"### `{def_name}` {{#{_anchor(name, def_name)}}}", ""]
            if definition.get("description"):
                out += [_cell(definition["description"]), ""]
            out += _table(name, definition, NOT_SHOWN, prefix=def_name)
        out.append("")
    return "\n".join(out)


def _table(file: str, schema: Mapping[str, Any], shipped: Any, prefix: str = "") -> list[str]:
    rows = ["| key | type | required | shipped | what it sets |", "|---|---|---|---|---|"]
    for path, node, required in key_paths(schema, prefix):
        value = NOT_SHOWN if shipped is NOT_SHOWN else _shipped(shipped, path.removeprefix(prefix).lstrip("."))
        rows.append(f"| `{path}` | {_type(file, node)} | {'yes' if required else ''} | {_value(value)} | "
                    f"{_cell(_meaning(node))} |")
    return rows


def key_paths(schema: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Mapping[str, Any], bool]]:
    """Every key the schema allows, as a dotted path (`[]` for a list's items), with its schema and
    whether it is required; nested keys follow their parent. `$ref`s are not followed: they name a
    shared type, listed once."""
    required = set(schema.get("required", ()))
    for key, node in schema.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        yield path, node, key in required
        yield from key_paths(node, path)
        items = node.get("items")
        if isinstance(items, Mapping) and "properties" in items:
            yield from key_paths(items, f"{path}[]")


def _type(file: str, node: Mapping[str, Any]) -> str:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return f"[`{name}`](#{_anchor(file, name)})"
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    kinds = node.get("type", "any")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    words = []
    for kind in kinds:
        if kind == "array" and isinstance(node.get("items"), Mapping):
            items = node["items"]
            inner = "objects" if "properties" in items else _type(file, items)
            inner = {"string": "strings", "integer": "integers", "number": "numbers"}.get(inner, inner)
            words.append(f"list of {inner}")
        elif kind == "string" and node.get("format") == "date":
            words.append("date (YYYY-MM-DD, UTC)")
        else:
            words.append(kind)
    return " or ".join(words)


def _meaning(node: Mapping[str, Any]) -> str:
    """The schema's description, then its limits in words (the items' too, for a list)."""
    limits = _limits(node)
    items = node.get("items")
    if isinstance(items, Mapping) and "properties" not in items:
        limits += [f"each {limit}" for limit in _limits(items)]
    text = node.get("description", "")
    if limits:
        text = (text + " " if text else "") + "(" + "; ".join(limits) + ")"
    return text


def _limits(node: Mapping[str, Any]) -> list[str]:
    limits = []
    if "minimum" in node and "maximum" in node:
        limits.append(f"{node['minimum']} to {node['maximum']}")
    elif "minimum" in node:
        limits.append(f"at least {node['minimum']}")
    elif "maximum" in node:
        limits.append(f"at most {node['maximum']}")
    if "exclusiveMinimum" in node:
        limits.append(f"more than {node['exclusiveMinimum']}")
    if "minLength" in node or "maxLength" in node:
        limits.append(f"{node.get('minLength', 0)} to {node['maxLength']} characters" if "maxLength" in node
                      else f"at least {node['minLength']} characters")
    if "minItems" in node or "maxItems" in node:
        limits.append(f"{node.get('minItems', 0)} to {node['maxItems']} items" if "maxItems" in node
                      else f"at least {node['minItems']} item{'s' if node['minItems'] != 1 else ''}")
    if node.get("uniqueItems"):
        limits.append("no repeats")
    if "pattern" in node:
        limits.append(f"matching `{node['pattern']}`")
    return limits


def _shipped(data: Any, path: str) -> Any:
    """The shipped value at `path`; NOT_SHOWN for an object, for what lies inside a list of objects,
    and for a key the shipped file leaves out."""
    for part in path.split("."):
        if part.endswith("[]") or not isinstance(data, Mapping) or part not in data:
            return NOT_SHOWN
        data = data[part]
    return NOT_SHOWN if isinstance(data, Mapping) else data


def _value(value: Any) -> str:
    if value is NOT_SHOWN:
        return ""
    if isinstance(value, list) and all(not isinstance(v, (Mapping, list)) for v in value):
        return "`[" + ", ".join(_plain(v) for v in value) + "]`"
    if isinstance(value, (Mapping, list)):
        return ""
    return f"`{_plain(value)}`"


def _plain(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _anchor(file: str, name: str) -> str:
    return f"{file}-{name}".replace("_", "-")


if __name__ == "__main__":
    print(render())
