"""A fund's configuration in layers, merged key by key over the server's rules (SPEC §13).

The server's rules come first; then each file a fund's `_extends` names (an organisation's shared
defaults); then the fund's own `.github/fund-bot.yml`. Each layer is merged over what is below it as
Probot apps merge a repository's file over their defaults: mappings key by key, lists replaced whole,
and `null` puts a key back to the server's value. What was merged is validated as a whole afterwards
(`bot.config.rules`), and every key remembers which layer set it, so a problem names the file and the
key to change, and `fundbot config show` says where each value comes from.

The merge is written here rather than taken from a library (deepmerge would do the merge, not the
origins, which every error message and `config show` need).
"""
from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

EXTENDS = "_extends"  # the key that names a file to extend (it is not a section of the rules)
# Keys of which a section holds one or the other: a layer that sets one drops the other below it.
EXCLUSIVE = {"funding": (("round", "rounds"),)}


@dataclass(frozen=True)
class Layer:
    """One file over the server's rules: where it is (as problems name it) and what it says."""

    name: str  # ".github/fund-bot.yml", or "owner/.github:.github/fund-bot.yml" for a file it extends
    document: Mapping[str, Any]


def path_text(path: Sequence[str]) -> str:
    return ".".join(path)


def merge(server: Mapping[str, Any], server_origins: Mapping[str, str], layers: Sequence[Layer],
          sections: Sequence[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The sections after every layer, and the origin of every key a layer set (`section.key.sub` ->
    the layer's name). A key no layer set comes from its section's server file."""
    merged = {name: copy.deepcopy(dict(server[name])) for name in sections if name in server}
    origins: dict[str, str] = {}
    for layer in layers:
        for section in sections:
            value = layer.document.get(section)
            if section not in layer.document or not isinstance(value, Mapping):
                continue  # absent, or not a mapping (the schema check says so)
            _merge_into(merged.setdefault(section, {}), value, server.get(section, {}), (section,), layer.name, origins)
    return merged, origins


def _merge_into(target: dict[str, Any], over: Mapping[str, Any], server: Any, path: tuple[str, ...], name: str,
                origins: dict[str, str]) -> None:
    exclusive = {k: other for pair in EXCLUSIVE.get(path[0], ()) if len(path) == 1
                 for k, other in (pair, pair[::-1])}
    for key, value in over.items():
        here = (*path, str(key))
        below = server.get(key) if isinstance(server, Mapping) else None
        if value is None:  # back to the server's value, whatever a layer below set
            _forget(origins, here)
            if below is None:
                target.pop(key, None)
            else:
                target[key] = copy.deepcopy(below)
            continue
        if key in exclusive:
            target.pop(exclusive[key], None)
            _forget(origins, (*path, exclusive[key]))
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge_into(target[key], value, below, here, name, origins)
        else:
            _forget(origins, here)
            target[key] = copy.deepcopy(value)
            origins[path_text(here)] = name


def _forget(origins: dict[str, str], path: tuple[str, ...]) -> None:
    prefix = path_text(path)
    for key in [k for k in origins if k == prefix or k.startswith(prefix + ".")]:
        del origins[key]


def origin_of(origins: Mapping[str, str], server_origins: Mapping[str, str], path: str) -> str:
    """Who set the key at `path` (`section.key[2].sub`): the deepest layer that did, else the server's file."""
    parts = path.replace("[", ".[").split(".")
    keys = [p for p in parts if p and not p.startswith("[")]
    for end in range(len(keys), 0, -1):
        found = origins.get(".".join(keys[:end]))
        if found is not None:
            return found
    return server_origins.get(keys[0], keys[0]) if keys else ""


def leaves(document: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Every key of a document that holds a value (a list is one value), as `section.key.sub`."""
    for key, value in document.items():
        here = (*path, str(key))
        if isinstance(value, Mapping) and value:
            yield from leaves(value, here)
        else:
            yield path_text(here), value


def effective(documents: Mapping[str, Mapping[str, Any]], server_origins: Mapping[str, str],
              key_origins: Mapping[str, str]) -> list[tuple[str, Any, str]]:
    """Every key of the rules in force, its value and where it comes from (`section.key`, value, file)."""
    return [(key, value, origin_of(key_origins, server_origins, key))
            for section in documents for key, value in leaves(documents[section], (section,))]
