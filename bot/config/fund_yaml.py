"""Reading YAML a fund wrote: `.github/fund-bot.yml` and its issue forms (SPEC §13).

Anyone who installs the App can push these files, so reading one must cost little and can fail only
with a reason: the file is capped in size, aliases are refused (a few hundred bytes of nested
anchors — "billion laughs" — expand into gigabytes once copied), nesting is capped before the
composer recurses, and what PyYAML's constructors raise besides `YAMLError` (a `2027-02-30` date, a
5,000-digit integer) becomes a `FundYamlError` naming the line. Numbers must be finite: `.nan` and
`.inf` pass the schemas' `type: number` but no amount or share can be one.
"""
from __future__ import annotations

import math
from typing import Any

import yaml

MAX_BYTES = 64 * 1024  # the shipped rules are under 8 KB all together
MAX_DEPTH = 32


class FundYamlError(ValueError):
    """Why a fund's file cannot be read: `where` (a line, or "size") and `reason`."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


def load_fund_yaml(text: str) -> Any:
    """The document `text` holds, read as `yaml.safe_load` would, within the limits above."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise FundYamlError("size", f"the file is {size:,} bytes; at most {MAX_BYTES:,} are read")
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):  # events only: nothing built or expanded yet
            line = f"line {event.start_mark.line + 1}"
            if isinstance(event, yaml.AliasEvent):
                raise FundYamlError(line, f"an alias (*{event.anchor}) — write the value out instead")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise FundYamlError(line, f"nested more than {MAX_DEPTH} levels deep")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise FundYamlError(f"line {mark.line + 1}" if mark else "syntax",
                            f"not valid YAML ({getattr(err, 'problem', None) or err})") from None
    except (ValueError, OverflowError) as err:  # a constructor's: `2027-02-30`, an integer too long to read
        if isinstance(err, FundYamlError):
            raise
        raise FundYamlError(_line_of_bad_value(text), f"cannot be read ({err})") from None
    _check_finite(document, "")
    return document


def _line_of_bad_value(text: str) -> str:
    """The line of the first scalar PyYAML cannot turn into a value (the constructors do not say)."""
    loader = yaml.SafeLoader("")
    stack = [yaml.compose(text, Loader=yaml.SafeLoader)]  # safe: aliases and depth were checked
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            try:
                loader.construct_object(node)
            except (ValueError, OverflowError):
                return f"line {node.start_mark.line + 1}"
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
        elif node is not None:
            stack.extend(reversed(node.value))
    return "value"


def _check_finite(value: Any, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise FundYamlError(path or "(top)", f"{value} is not a number an amount or a share can be")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_finite(item, f"{path}[{i}]")
