"""The fund's rules loaded: `rules/*.yml` and the issue templates from the server's folders, or a
fund's `.github/fund-bot.yml` and forms over them, validated and built into `bot.policy.rules.Rules`.

Every problem in every file is collected and reported at once, each as `file: key: reason`;
unknown keys are errors (the schemas in `bot/config/schemas/rules/` say `additionalProperties: false`),
and the service refuses to start on any of them — a warning would let a typo change policy.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.config.files import (
    APPLICATION_TEMPLATE, FUND_TEMPLATES, OPTIONAL_RULE_FILES, REPORT_TEMPLATE, RULE_FILES, TEMPLATE_FILES,
    translations_of,
)
from bot.config.forms import FormTemplateError, load_template, parse_template
from bot.config.settings import DEFAULT_RULES_DIR
from bot.config.fund_yaml import FundYamlError, load_fund_yaml
from bot.config.layers import EXTENDS, Layer, merge, origin_of
from bot.config.rules_build import build_rules
from bot.config.rules_check import cross_check
from bot.policy.form_template import FormTemplate
from bot.policy.rules import FUND_FILE, Rules, RulesError

SCHEMA_DIR = Path(__file__).parent / "schemas" / "rules"


def load_rules(rules_dir: Path, templates_dir: Path) -> Rules:
    """Load and validate every rules file and template; raise `RulesError` listing all problems."""
    errors: list[str] = []
    documents: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    for name in RULE_FILES:
        path = rules_dir / f"{name}.yml"
        if name in OPTIONAL_RULE_FILES and not path.exists():
            path = DEFAULT_RULES_DIR / f"{name}.yml"  # a folder made before this file existed: the shipped one
        origins[name] = str(path)
        document = _read_yaml(path, errors)
        if document is not None and _valid_section(name, document, errors, _server_file(str(path))):
            documents[name] = document
    forms: dict[str, FormTemplate] = {}
    for filename in TEMPLATE_FILES:
        path = templates_dir / filename
        if filename not in (APPLICATION_TEMPLATE, REPORT_TEMPLATE) and not path.exists():
            continue  # a translation is optional
        origins[filename] = str(path)
        try:
            forms[filename] = load_template(path)
        except FormTemplateError as err:
            errors.append(str(err))
    return _finish(documents, forms, origins, errors)


def fund_rules(server: Rules, fund_file: str | None, templates: Mapping[str, str | None], *,
               bases: Sequence[tuple[str, str | None]] = ()) -> Rules:
    """A fund's rules (SPEC §13): its `.github/fund-bot.yml` merged key by key over the server's rules —
    after the files its `_extends` names (`bases`: (name, text), farthest first) — and its own issue forms
    (`templates`: file name -> text, None when the repository has none) in place of the server's. Raise
    `RulesError` listing every problem, each as `file: key: reason`."""
    if fund_file is None and not bases and all(text is None for text in templates.values()):
        return server  # the server's rules, as they are
    errors: list[str] = []
    layers = [layer for name, text in (*bases, (FUND_FILE, fund_file)) if text is not None
              and (layer := _layer(name, text, errors)) is not None]
    server_files = {name: server.origins[name] for name in RULE_FILES}
    documents, key_origins = merge(server.documents, server_files, layers, RULE_FILES)
    origins = dict(server.origins)

    def where(section: str, key: str, written_at: str = "") -> str:  # `file: key`, for the key's own layer
        written_at = written_at or key
        file = origin_of(key_origins, server_files, f"{section}.{written_at}" if written_at else section)
        return f"{file}: {key or '(top)'}" if file == server_files[section] else f"{file}: {_join(section, key)}"

    for name in RULE_FILES:
        _valid_section(name, documents[name], errors, where)
    forms = {f.path.name: f for f in server.application_forms + server.report_forms}
    for base in (APPLICATION_TEMPLATE, REPORT_TEMPLATE):
        if templates.get(base) is not None:  # the fund's own form: the server's translations of it do not fit it
            for name in translations_of(base):
                forms.pop(name, None)
        else:  # the server's form, with the server's translations
            templates = {name: text for name, text in templates.items() if name not in translations_of(base)}
    for filename, text in templates.items():
        if text is None:
            continue
        path = f"{FUND_TEMPLATES}/{filename}"
        origins[filename] = path
        try:
            forms[filename] = parse_template(Path(path), text)
        except FormTemplateError as err:
            errors.append(str(err))
    return _finish(documents, forms, origins, errors, key_origins, where)


def _layer(name: str, text: str, errors: list[str]) -> Layer | None:
    """One file over the server's rules, read within limits; its top-level problems listed."""
    try:
        document = _dates_to_text(load_fund_yaml(text))
    except FundYamlError as err:
        errors.append(f"{name}: {err}")
        return None
    if document is None:
        return Layer(name, {})  # an empty file: nothing over the layers below
    if not isinstance(document, dict):
        errors.append(f"{name}: (top): must be a mapping of sections ({', '.join(RULE_FILES)})")
        return None
    for key in sorted(set(document) - set(RULE_FILES) - {EXTENDS}, key=str):
        errors.append(f"{name}: {key}: not a section of the rules (they are {', '.join(RULE_FILES)})")
    for section in RULE_FILES:
        if section in document and document[section] is not None and not isinstance(document[section], dict):
            errors.append(f"{name}: {section}: must be a mapping, as rules/{section}.yml is")
    return Layer(name, document)


def _valid_section(name: str, document: Any, errors: list[str], where: Callable[..., str]) -> bool:
    """`document` checked against its schema; each problem named by `where(section, key, written_at)`
    (`file: key`, the file being the one that wrote the key at `written_at`)."""
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    problems = [f"{where(name, _key_of(e), _written_at(e))}: {e.message}" for e in _schema_errors(schema, document)]
    errors.extend(problems)
    return not problems


def _server_file(file: str) -> Callable[..., str]:
    return lambda section, key, written_at="": f"{file}: {key or '(top)'}"


def _join(section: str, key: str) -> str:
    """`section.key` as a fund's file names it (`funding.rounds[0].pool`; the section alone for "")."""
    return f"{section}{'' if key.startswith('[') else '.'}{key}" if key else section


def _finish(documents: dict[str, dict[str, Any]], forms: dict[str, FormTemplate], origins: dict[str, str],
            errors: list[str], key_origins: Mapping[str, str] | None = None,
            where: Callable[[str, str], str] | None = None) -> Rules:
    rules = None
    if len(documents) == len(RULE_FILES) and {APPLICATION_TEMPLATE, REPORT_TEMPLATE} <= set(forms) and not errors:
        errors.extend(cross_check(origins, documents, forms,
                                  where or (lambda section, key: f"{origins[section]}: {key or '(top)'}")))
        if not errors:
            rules = build_rules(documents, forms, origins, key_origins or {})
    if errors or rules is None:
        raise RulesError(errors)
    return rules


def _read_yaml(path: Path, errors: list[str]) -> dict[str, Any] | None:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        errors.append(f"{path}: file is missing")
        return None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "syntax"
        errors.append(f"{path}: {where}: not valid YAML ({getattr(err, 'problem', err)})")
        return None
    if not isinstance(document, dict):
        errors.append(f"{path}: (top): must be a mapping of keys to values")
        return None
    return _dates_to_text(document)


def _dates_to_text(value: Any) -> Any:
    # YAML reads `2026-01-01` as a date; the schemas describe dates as ISO text.
    if isinstance(value, dict):
        return {k: _dates_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_to_text(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _schema_errors(schema: dict[str, Any], document: Any) -> Iterator[jsonschema.ValidationError]:
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return iter(sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))))


def _key_of(error: jsonschema.ValidationError) -> str:
    """The key a schema error is about, within its section (`community.min_contributors`, `stages[2].next`;
    "" for the section itself)."""
    return _dotted(list(error.absolute_path))


def _written_at(error: jsonschema.ValidationError) -> str:
    """Where the key an error is about was written: for a key that should not be there, that key (its
    parent is where the schema says so), so the file that wrote it is named."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        path += sorted(str(k) for k in error.instance if k not in known)[:1]
    return _dotted(path)


def _dotted(path: list) -> str:
    parts: list[str] = []
    for part in path:
        parts.append(f"[{part}]" if isinstance(part, int) else ("." if parts else "") + str(part))
    return "".join(parts)

