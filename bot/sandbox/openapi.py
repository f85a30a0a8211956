"""Checks requests against GitHub's REST description: is there such an endpoint, does it take these
query parameters, would its schema accept this body. Also the path-template matching the router uses.

The description is the vendored subset ``tests/fixtures/github-openapi-subset.json`` (see
``tests/fixtures/SOURCES-openapi.md``); its schemas are OpenAPI 3.0, so ``nullable`` is turned into
JSON Schema before validating with ``jsonschema``.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

MISSING = object()


def split(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


def match(template: str, segments: list[str]) -> dict[str, str] | None:
    """Path parameters if ``segments`` fit ``template``. A final ``{path}`` takes the rest
    (``x-multi-segment`` in GitHub's description); numeric ids must be digits, as GitHub's are."""
    parts = split(template)
    if parts and parts[-1] == "{path}":
        if len(segments) < len(parts) - 1:
            return None
        segments = [*segments[: len(parts) - 1], "/".join(segments[len(parts) - 1:])]
    if len(parts) != len(segments):
        return None
    params: dict[str, str] = {}
    for part, segment in zip(parts, segments, strict=True):  # lengths checked above
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if (not segment and name != "path") or (name.endswith(("_id", "_number")) and not segment.isdigit()):
                return None
            params[name] = segment
        elif part != segment:
            return None
    return params


def best(templates: Iterable[str], segments: list[str]) -> tuple[str, dict[str, str]] | None:
    """The most specific template that fits: literal segments beat parameters, left to right."""
    found = [(t, p) for t in templates if (p := match(t, segments)) is not None]
    if not found:
        return None
    return max(found, key=lambda tp: [not part.startswith("{") for part in split(tp[0])])


def _json_schema(schema: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` as JSON Schema (``null`` allowed)."""
    if isinstance(schema, list):
        return [_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    """A query string value as the type its schema declares, if it reads as one."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def _messages(validator: Draft7Validator, instance: Any) -> list[str]:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in errors[:3]]


@dataclass(frozen=True)
class Checker:
    """GitHub's description of the operations the sandbox serves, plus the names of all others."""

    paths: Mapping[str, Mapping[str, Any]]
    operations: Mapping[str, list[str]]

    @classmethod
    def load(cls, path: str | Path) -> Checker:
        return _load(str(Path(path).resolve()))

    def github_endpoint(self, method: str, segments: list[str]) -> str | None:
        """GitHub's template for this request, if GitHub has the endpoint at all."""
        templates = [t for t, methods in self.operations.items() if method.lower() in methods]
        found = best(templates, segments)
        return found[0] if found else None

    def _operation(self, method: str, template: str) -> tuple[dict, list[dict]]:
        item = self.paths.get(template, {})
        operation = item.get(method.lower())
        if operation is None:
            raise KeyError(f"{method} {template} is not in the vendored OpenAPI subset; re-run scripts/vendor_openapi.py")
        return operation, [*item.get("parameters", []), *operation.get("parameters", [])]

    def knows_query(self, method: str, template: str, name: str) -> bool:
        """Whether GitHub's operation takes query parameter ``name`` at all."""
        return self._query_schema(method, template, name) is not None

    def value_problems(self, method: str, template: str, name: str, value: str) -> list[str]:
        """What the parameter's schema says is wrong with ``value`` (``per_page=abc``, a bad enum)."""
        schema = self._query_schema(method, template, name)
        if schema is None:
            return [f"query parameter `{name}` is not one GitHub accepts"]
        schema = _json_schema(schema)
        return [f"query parameter `{name}`={value!r}: {m.split(': ', 1)[1]}"
                for m in _messages(Draft7Validator(schema), _coerce(value, schema))]

    def _query_schema(self, method: str, template: str, name: str) -> dict | None:
        _, parameters = self._operation(method, template)
        return next((p.get("schema", {}) for p in parameters if p.get("in") == "query" and p["name"] == name), None)

    def body_problems(self, method: str, template: str, body: Any) -> list[str]:
        """What GitHub's request-body schema says is wrong with ``body`` (``MISSING`` if none)."""
        operation, _ = self._operation(method, template)
        spec = operation.get("requestBody")
        if spec is None:
            return [] if body is MISSING else ["GitHub takes no request body here"]
        if body is MISSING:
            return ["a request body is required"] if spec.get("required") else []
        schema = spec.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return []
        return _messages(Draft7Validator(_json_schema(schema)), body)


@functools.lru_cache(maxsize=4)
def _load(path: str) -> Checker:
    """One parsed description per file: every test's sandbox shares it (it is only read)."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    return Checker(document["paths"], document.get("x-github-operations", {}))
