"""YAML parsing that remembers the line of every value, so errors can point at it."""

from collections.abc import Iterable
from typing import Any

import yaml

from policy.errors import ConfigError, Problem

Path_ = tuple[str | int, ...]

# libyaml's parser keeps the same marks and is about ten times faster (startup cost of every
# command); the pure-Python one is the fallback where PyYAML was built without it.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LocatedYaml:
    """A parsed YAML document plus the 1-based line where each value (by path) starts."""

    def __init__(self, file: str, data: Any, lines: dict[Path_, int]) -> None:
        self.file = file
        self.data = data
        self.lines = lines

    def line_of(self, path: Iterable[str | int]) -> int:
        """Line of the deepest known prefix of `path` (pydantic error locations are paths)."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)

    def problem(self, path: Iterable[str | int], message: str) -> Problem:
        parts = tuple(path)
        return Problem(self.file, self.line_of(parts), format_path(parts), message)


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_yaml(file: str, text: str) -> LocatedYaml:
    """Parse one YAML document; raise ConfigError naming the line on syntax errors."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise ConfigError([Problem(file, line, "", f"not valid YAML: {exc.problem}")]) from None
    lines: dict[Path_, int] = {}
    problems: list[Problem] = []
    constructor = yaml.SafeLoader("")
    data = _build(node, (), lines, problems, file, constructor) if node is not None else None
    if problems:
        raise ConfigError(problems)
    return LocatedYaml(file, data, lines)


def _build(
    node: yaml.Node,
    path: Path_,
    lines: dict[Path_, int],
    problems: list[Problem],
    file: str,
    constructor: yaml.SafeLoader,
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node)
            key = str(key)
            if key in out:
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        format_path((*path, key)),
                        "this key appears twice in the same mapping",
                    )
                )
                continue
            out[key] = _build(value_node, (*path, key), lines, problems, file, constructor)
            lines[(*path, key)] = key_node.start_mark.line + 1  # point at the key, not its block
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, i), lines, problems, file, constructor)
            for i, item in enumerate(node.value)
        ]
    try:
        return constructor.construct_object(node)
    except ValueError as exc:  # a date YAML recognises but the calendar refuses: 2026-13-18
        problems.append(
            Problem(
                file,
                node.start_mark.line + 1,
                format_path(path),
                f"{node.value!r} is not a real date ({exc}); write YYYY-MM-DD"
                if node.tag.endswith(":timestamp")
                else f"{node.value!r} cannot be read ({exc})",
            )
        )
        return None
    except yaml.YAMLError as exc:  # a tag the safe loader refuses: !!python/object
        problems.append(
            Problem(
                file,
                node.start_mark.line + 1,
                format_path(path),
                f"{getattr(exc, 'problem', None) or exc}; write a plain value",
            )
        )
        return None
