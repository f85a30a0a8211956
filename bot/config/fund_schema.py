"""The JSON schema of a fund's `.github/fund-bot.yml`, for editors (a `# yaml-language-server: $schema=…`
line) — generated from the rules' own schemas (`bot/config/schemas/rules/`, the one place their keys,
limits and descriptions are written), never written by hand.

A fund's file is not a rules file: it says only what differs, and is merged over the server's rules key
by key (`bot.config.layers`). So each section's schema is made *partial*: in a mapping no key is required
and any key may be `null` (back to the server's value); a list is replaced whole, so a list's items keep
every requirement. `$ref`s are inlined (each section's `$defs` are its own). The merged rules are checked
as a whole by the bot — what the schema cannot know (a stage's `next` naming a stage that does not
exist, `round` and `rounds` together) `fundbot validate --fund-file` finds. Published with the
documentation site at `SCHEMA_SITE_PATH`; `fundbot schema` prints it.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from bot.config.files import RULE_FILES
from bot.config.layers import EXTENDS
from bot.policy.i18n import LANGUAGES

SCHEMA_DIR = Path(__file__).parent / "schemas" / "rules"
SCHEMA_SITE_PATH = "schemas/fund-bot.schema.json"  # where the documentation site publishes it
SCHEMA_URL = f"https://open-source-fund.github.io/fund-bot/{SCHEMA_SITE_PATH}"  # the project's site (GitHub Pages)


def fund_file_schema(schema_dir: Path = SCHEMA_DIR) -> dict[str, Any]:
    """The schema of `.github/fund-bot.yml`: the sections of the rules, each partial, and `_extends`."""
    sections = {}
    for name in RULE_FILES:
        schema = json.loads((schema_dir / f"{name}.schema.json").read_text(encoding="utf-8"))
        section = _partial(_inline(schema, schema.get("$defs", {})))
        for key in ("$schema", "$defs", "$id"):
            section.pop(key, None)
        section["description"] = (f"What differs from the server's rules/{name}.yml: merged over it key by key "
                                  "(a list replaced whole; null puts a key back to the server's value).")
        sections[name] = _nullable(section)
    # What only the code knows: the languages with message catalogues (`bot.config.rules_check` checks it).
    sections["fund"]["properties"]["language"]["enum"] = [*LANGUAGES, None]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_URL,
        "title": ".github/fund-bot.yml",
        "description": "A fund's own rules for Fund Bot, over the server's. An empty file is a fund run by the "
                       "server's rules. Generated from Fund Bot's rules schemas; `fundbot validate --fund-file` "
                       "checks a file as the bot does.",
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {
            EXTENDS: {"type": "string", "minLength": 1,
                      "description": "Shared defaults below this file: `.github` (the owner's .github repository), "
                                     "`name` (a repository of the same owner), `owner/name`, or `owner/name:path`."},
            **sections,
        },
    }


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """`schema` with every `{"$ref": "#/$defs/x", …}` replaced by a copy of `x` (the keys beside the
    reference kept over it)."""
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = _inline(copy.deepcopy(defs[ref.removeprefix("#/$defs/")]), defs)
        return {**target, **{k: _inline(v, defs) for k, v in schema.items() if k != "$ref"}}
    return {k: _inline(v, defs) if k != "$defs" else v for k, v in schema.items()}


def _partial(schema: dict[str, Any]) -> dict[str, Any]:
    """A mapping's schema as a layer over the server's: no key required, each key's value may be null,
    and its mappings partial too (a list — replaced whole — is left as it is)."""
    if "properties" not in schema:
        return schema
    out = {k: v for k, v in schema.items() if k != "required"}
    out["properties"] = {key: _nullable(_partial(value)) for key, value in schema["properties"].items()}
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null."""
    out = dict(schema)
    if "type" not in out and "enum" not in out:
        return {"anyOf": [schema, {"type": "null"}], **({"description": schema["description"]}
                                                         if "description" in schema else {})}
    if "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"] if "null" not in types else types
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out
