"""Safe YAML loading that remembers where every value came from.

PyYAML's ``safe_load`` forgets positions and silently keeps the last of two
duplicate keys. This module composes the document with ``yaml.SafeLoader``
(never the unsafe loaders), builds plain Python data from the node tree
itself, rejects duplicate keys, tabs and non-string keys, and records the
1-based line and column of every value and every mapping key, so that later
validation can point at ``file:line:col``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from routegate.errors import InputError, Problem, format_path

Path = tuple[str | int, ...]
Position = tuple[int, int]


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML document and the position of each of its parts."""

    file: str
    data: Any
    values: Mapping[Path, Position] = field(default_factory=dict)
    """Position of the value at each path."""
    keys: Mapping[Path, Position] = field(default_factory=dict)
    """Position of the mapping key that names each path."""

    def position(self, path: Path, *, key: bool = False) -> Position:
        """The best position for ``path``: the node itself, else its nearest ancestor."""
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        for cut in range(len(path) - 1, -1, -1):
            prefix = path[:cut]
            if prefix in self.values:
                return self.values[prefix]
        return (1, 1)

    def problem(self, path: Path, message: str, *, key: bool = False, severity: str = "error") -> Problem:
        line, col = self.position(path, key=key)
        return Problem(self.file, line, col, format_path(path), message, severity)  # type: ignore[arg-type]


def _mark(node: yaml.Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[Path, Position] = {}
        self.keys: dict[Path, Position] = {}
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.values[path] = _mark(node)
        plain: dict[type[yaml.Node], str] = {
            yaml.MappingNode: "tag:yaml.org,2002:map",
            yaml.SequenceNode: "tag:yaml.org,2002:seq",
        }
        expected = plain.get(type(node))
        if expected is not None and node.tag != expected:
            # The tree is built here, not by the constructor, so a tag such as
            # !!python/object on a mapping would otherwise be silently dropped.
            line, col = _mark(node)
            raise InputError(
                [
                    Problem(
                        self.file, line, col, format_path(path), f"unsupported YAML tag {node.tag!r}; use plain values"
                    )
                ]
            )
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:bool":
                    # YAML 1.1 reads a bare `on:` / `yes:` key as a boolean; every key we define is a
                    # word, so keep the text as written (`fallback: {on: [...]}` means the key "on").
                    key: Any = key_node.value
                else:
                    key = self.constructor.construct_object(key_node, deep=True)
                line, col = _mark(key_node)
                if not isinstance(key, str):
                    raise InputError(
                        [Problem(self.file, line, col, format_path(path), f"keys must be strings, got {key!r}")]
                    )
                if key in out:
                    first = self.keys[(*path, key)]
                    raise InputError(
                        [
                            Problem(
                                self.file,
                                line,
                                col,
                                format_path((*path, key)),
                                f"duplicate key {key!r} (first defined at line {first[0]}); each key may appear once",
                            )
                        ]
                    )
                self.keys[(*path, key)] = (line, col)
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document safely; raise ``InputError`` naming file:line:col."""
    if not text.strip():
        raise InputError([Problem(file, 1, 1, "-", "file is empty; expected a YAML mapping")])
    for lineno, row in enumerate(text.splitlines(), start=1):
        indent = len(row) - len(row.lstrip(" \t"))
        if "\t" in row[:indent]:
            col = row.index("\t") + 1
            raise InputError([Problem(file, lineno, col, "-", "tab character in indentation; indent with spaces")])
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or str(exc)
        if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            what += f" ({exc.context} at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1})"
        raise InputError([Problem(file, line, col, "-", f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(file, 1, 1, "-", f"YAML error: {exc}")]) from None
    if node is None:
        raise InputError([Problem(file, 1, 1, "-", "file holds no YAML document; expected a mapping")])
    builder = _Builder(file)
    try:
        data = builder.build(node, ())
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise InputError([Problem(file, line, col, "-", f"YAML error: {exc.problem}")]) from None
    if not isinstance(data, dict):
        line, col = _mark(node)
        raise InputError([Problem(file, line, col, "-", f"top level must be a mapping, got {type(data).__name__}")])
    return YamlDocument(file=file, data=data, values=builder.values, keys=builder.keys)
