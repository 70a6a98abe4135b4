"""py-regex.js matches what Python's `re` (with re.ASCII, as the core compiles) matches.

Each pattern searches each string in Python and in JavaScript; the match and group 1 must agree.
Covers the constructs the translation rewrites: `$` before a final newline, `.`, `\\d \\w \\s \\b`
under ASCII, `{,n}` and literal braces, classes starting with `]`. (The constructs policy/config.py
refuses in a pattern, such as named groups or inline flags, never reach the extension.)
"""

import json
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent

PATTERNS = [
    r"^(\d+)$",
    r"^u=(\d+)$",
    r"(^|&)act=a_send(&|$)",
    r"a{,3}b",
    r"x{2,}y",
    r"x{2}",
    r"{",
    r"a}b",
    r"a{x}",
    r"([\w-]+)@",
    r"[]a]+",
    r"[^]a]+",
    r"\bfoo\b",
    r"\Bfoo",
    r"a.c",
    r"\x41(\u00e9)",
    r"\s+(\S+)",
    r"[\s\d]+",
    r"(?#note)x",
    r"\.\-\"\'\#",
    r"a|b$",
    r"\w+\W\w+",
    r"^([^|]+)\|",
    r"^([^#;][^;]*)$",
    r'"collection"\s*:\s*"app\.bsky\.graph\.follow"',
    r"label(%5C|\\)?(%22|\")(%3A|:)",
    r"\d\D",
    r"[a-z0-9_]{1,25}$",
    r"(a)?b",
    r"[/]x",
    r"\\",
]
STRINGS = [
    "",
    "123",
    "123\n",
    "123\n\n",
    "12\r",
    "\u0661\u0662\u0663",
    "u=2000001",
    "u=2000001\n",
    "act=a_send",
    "x&act=a_send\n",
    "act=a_sendx",
    "aaab",
    "aaaab",
    "xxxy",
    "xy",
    "{",
    "a}b",
    "a{x}",
    "abab",
    "caf\u00e9-user@x",
    "]]a",
    "bbb",
    "foo bar",
    "xfoo",
    "ab",
    "ab\n",
    "ABC",
    "a\nb",
    "a\rc",
    "x\nb\ny",
    "A\u00e9",
    "  \u00a0word",
    "\t1 2",
    ".-\"'#",
    "a",
    "b\n",
    "caf\u00e9 ok",
    "name|123|x",
    "#x",
    "user;x",
    '{"collection": "app.bsky.graph.follow"}',
    "label%5C%22%3A",
    'label":',
    "1x",
    "\u0661x",
    "valid_login",
    "b",
    "a/x",
    "back\\slash",
]


def test_translated_patterns_match_what_python_matches(node: str, tmp_path: Path) -> None:
    src, out = tmp_path / "in.json", tmp_path / "out.json"
    src.write_text(json.dumps({"patterns": PATTERNS, "strings": STRINGS}), encoding="utf-8")
    subprocess.run([node, str(HERE / "regex_batch.mjs"), str(src), str(out)], check=True)
    js = json.loads(out.read_text(encoding="utf-8"))
    differences = []
    for pattern, results in zip(PATTERNS, js, strict=True):
        assert isinstance(results, list), f"{pattern!r} did not compile in JS: {results}"
        compiled = re.compile(pattern, re.ASCII)
        for text, got in zip(STRINGS, results, strict=True):
            m = compiled.search(text)
            want = None if m is None else [m.group(0), m.group(1) if compiled.groups else None]
            if want != got:
                differences.append((pattern, text, want, got))
    assert not differences, differences[:10]
