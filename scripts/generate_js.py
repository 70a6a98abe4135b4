"""Writes the JavaScript that mirrors Python data, so the extension never retypes a contract:
the id patterns (policy/ids.py), the closed vocabularies (policy/vocabulary.py), the event's field
specs (policy/event.py), the bundle's JSON Schema (policy/bundle.py), the Response's timings
and value lists (policy/respond.py) and the warning's (policy/warning.py), each into
extension/js/policy/generated/ with a first line saying where it comes from.

Usage: .venv/bin/python scripts/generate_js.py [--check] [--dir DIR]
  --check  write nothing; exit 1 with one line naming the stale files (scripts/test runs this)
  --dir    write to (or check) DIR instead of extension/js/policy/generated
"""

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import get_args

try:
    from policy import bundle, event, ids, respond, vocabulary, warning
except ModuleNotFoundError as exc:  # run by a Python without ClauseWarden installed
    sys.exit(f"{exc}: run it with the project's Python, .venv/bin/python {sys.argv[0]}")

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "extension" / "js" / "policy" / "generated"
COMMAND = "scripts/generate_js.py"


def _head(module: ModuleType, about: str) -> str:
    return f"// generated from {module.__name__} by {COMMAND}, do not edit\n// {about}\n"


def _json(value: object) -> str:
    """JSON (a JavaScript literal): lists on one line, objects one key a line."""
    if isinstance(value, list | tuple):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, indent=2)


def _regex(pattern: re.Pattern[str]) -> str:
    """`pattern` as JavaScript (its source is written in the subset both languages share)."""
    if pattern.flags & ~re.UNICODE:
        raise ValueError(f"{pattern.pattern!r}: a shared pattern has no flags")
    if "/" in pattern.pattern or "\n" in pattern.pattern:
        return f"new RegExp({json.dumps(pattern.pattern)})"
    return f"/{pattern.pattern}/"


def _constants(module: ModuleType) -> Iterator[tuple[str, object]]:
    """The module's public constants (UPPER_CASE names), in the order they are defined."""
    for name, value in vars(module).items():
        if name.isupper() and not name.startswith("_"):
            yield name, value


def _pattern_names() -> dict[int, str]:
    """The first name in policy.ids of each pattern object (later names are aliases of it)."""
    names: dict[int, str] = {}
    for name, value in _constants(ids):
        if isinstance(value, re.Pattern):
            names.setdefault(id(value), name)
    return names


def ids_js() -> str:
    first = _pattern_names()
    lines = [
        _head(ids, "Every id pattern; names bound to one Python pattern share one RegExp."),
    ]
    for name, value in _constants(ids):
        if isinstance(value, re.Pattern):
            canonical = first[id(value)]
            source = _regex(value) if canonical == name else canonical
            lines.append(f"export const {name} = {source};")
    patterns = ", ".join(f"{key}: {first[id(p)]}" for key, p in ids.PATTERNS.items())
    lines += ["", f"export const PATTERNS = Object.freeze({{ {patterns} }});"]
    return "\n".join(lines) + "\n"


def vocabulary_js() -> str:
    lines = [_head(vocabulary, "The closed vocabularies, in Python's order, and their labels.")]
    for name, value in _constants(vocabulary):
        if isinstance(value, tuple | dict):
            lines.append(f"export const {name} = Object.freeze({_json(value)});")
    return "\n".join(lines) + "\n"


def event_specs_js() -> str:
    first = _pattern_names()
    specs = []
    for spec in event.EVENT_SPECS:
        pattern = "null" if spec.pattern is None else f"ids.{first[id(spec.pattern)]}"
        fields = {
            "name": spec.name,
            "jsonType": spec.json_type,
            "nullable": spec.nullable,
            "enumValues": list(spec.enum),
            "pattern": pattern,
            "maxLength": spec.max_length,
            "maxItems": spec.max_items,
            "problem": spec.problem,
        }
        body = ", ".join(
            f"{k}: {v if k == 'pattern' else json.dumps(v, ensure_ascii=False)}"
            for k, v in fields.items()
        )
        specs.append(f"  {{ {body} }},")
    lines = [
        _head(event, "The event's field specs (FieldSpec less its documentation), in order."),
        'import * as ids from "./ids.js";',
        "",
        f"export const RESPONSES = Object.freeze({_json(list(event.RESPONSES))});",
        f"export const MAX_CLAUSES = {event.MAX_CLAUSES};",
        f"export const ADDED_FIELDS = Object.freeze({_json(dict(event.ADDED_FIELDS))});",
        f"export const BOTH_APPLY_AND_MAY = {_json(event.BOTH_APPLY_AND_MAY)};",
        "export const EVENT_FIELD_SPECS = Object.freeze([",
        *specs,
        "]);",
    ]
    return "\n".join(lines) + "\n"


def bundle_schema_js() -> str:
    lines = [
        _head(bundle, "The bundle as JSON Schema (policy.bundle.Bundle): what sensors read."),
        f"export const BUNDLE_FORMAT = {bundle.BUNDLE_FORMAT};",
        f"export const BUNDLE_SCHEMA = {_json(bundle.bundle_schema())};",
    ]
    return "\n".join(lines) + "\n"


def respond_timings_js() -> str:
    lines = [
        _head(respond, "The Response's timings, in seconds, the same for both sensors."),
        f"export const TICKET_SECONDS = {int(respond.TICKET_SECONDS)};",
        f"export const HELD_NOTICE_SECONDS = {int(respond.HELD_NOTICE_SECONDS)};",
    ]
    return "\n".join(lines) + "\n"


def respond_vocabulary_js() -> str:
    """The Response's value lists (its Literal types) and OWN_SITE, in Python's order."""
    lists = {
        "FATES": respond.FATES,
        "PAGES": respond.PAGES,
        "NOTICES": respond.NOTICES,
        "RETURN_TO": get_args(respond.ReturnTo),
        "OWN_SITE": respond.OWN_SITE,
    }
    lines = [_head(respond, "The Response's value lists (its Literal types), in Python's order.")]
    lines += [
        f"export const {name} = Object.freeze({_json(list(v))});" for name, v in lists.items()
    ]
    return "\n".join(lines) + "\n"


def warning_vocabulary_js() -> str:
    """The warning's value lists: which outcomes get the page, the acts and what each is called."""
    lines = [_head(warning, "The warning's outcomes, acts, act nouns and what staff see.")]
    lines += [
        f"export const WARNING_OUTCOMES = Object.freeze({_json(list(warning.WARNING_OUTCOMES))});",
        f"export const ACTS = Object.freeze({_json(list(warning.ACTS))});",
        f"export const ACT_NOUNS = Object.freeze({_json(dict(warning.ACT_NOUNS))});",
        f"export const SEEN = Object.freeze({_json(list(warning.SEEN))});",
    ]
    return "\n".join(lines) + "\n"


FILES: dict[str, Callable[[], str]] = {
    "ids.js": ids_js,
    "vocabulary.js": vocabulary_js,
    "event-specs.js": event_specs_js,
    "bundle-schema.js": bundle_schema_js,
    "respond-timings.js": respond_timings_js,
    "respond-vocabulary.js": respond_vocabulary_js,
    "warning-vocabulary.js": warning_vocabulary_js,
}


def stale(folder: Path) -> list[Path]:
    """The generated files in `folder` that are missing or differ from what Python says."""
    out = []
    for name, render in FILES.items():
        path = folder / name
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != render():
            out.append(path)
    return out


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in stale(folder):
        path.write_text(FILES[path.name](), encoding="utf-8")
        written.append(path)
    return written


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    parser.add_argument("--dir", type=Path, default=GENERATED, help="the generated folder")
    args = parser.parse_args(argv)
    if args.check:
        old = stale(args.dir)
        if old:
            names = ", ".join(_shown(p) for p in old)
            print(f"generated JavaScript is stale ({names}): run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    for path in write(args.dir):
        print(f"wrote {_shown(path)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
