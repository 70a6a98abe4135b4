"""The request as the site reads it: acts are decided on this canonical form, not on the bytes a
page's script chose (issue 16 §3). Pure; the JavaScript twin is extension/js/policy/canonical.js.

- path: `;` parameters dropped, escapes of unreserved characters decoded (other escapes in upper
  case, other characters escaped), dot segments (escaped ones too) and repeated slashes removed;
  it is ASCII, so act paths can be matched without regard to case in both twins alike;
- query: keys and values decoded, keys in lower case;
- methods: the method in upper case and any override (headers, a `_method` parameter in the
  query or a POST's form body);
- body: the text, and beside it the views a site decodes: a form's fields, a multipart body's
  parts, JSON escapes, JSON strings that hold JSON (GraphQL variables, batches), a few levels deep.
"""

import json
import re
from collections.abc import Iterator, Mapping

OVERRIDE_HEADERS = ("x-http-method-override", "x-http-method", "x-method-override")
OVERRIDE_PARAMETER = "_method"
WRITE_METHODS = frozenset({"PUT", "PATCH"})
"""Counted as POST: a site's write endpoint often takes them for the same act."""
DEPTH = 3
"""How many encodings deep a body is opened (a form field holding JSON holding JSON)."""

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_JSON_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|[\s\S])")
_BOUNDARY = re.compile(r"boundary=\"?([^\";,]+)", re.ASCII | re.IGNORECASE)
_PART_NAME = re.compile(r"\bname=\"([^\"]*)\"", re.ASCII | re.IGNORECASE)
_UPPER = re.compile(r"[A-Z]+")
_LOWER = re.compile(r"[a-z]+")


def ascii_lower(text: str) -> str:
    """Lower case for ASCII letters only (as the twin's, whatever the locale's rules)."""
    return _UPPER.sub(lambda m: m.group().lower(), text)


def ascii_upper(text: str) -> str:
    """Upper case for ASCII letters only: a method that is not ASCII matches no endpoint."""
    return _LOWER.sub(lambda m: m.group().upper(), text)


def path(raw: str) -> str:
    """The canonical path of `raw` (without its query)."""
    segments: list[str] = []
    trailing = False
    for piece in raw.split("/"):
        segment = _path_segment(piece.split(";", 1)[0])
        if segment in ("", ".", ".."):
            if segment == ".." and segments:
                segments.pop()
            trailing = True
            continue
        segments.append(segment)
        trailing = False
    return "/" + "/".join(segments) + ("/" if trailing and segments else "")


def _path_segment(segment: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        match = _ESCAPE.match(segment, index) if char == "%" else None
        if match is not None:
            decoded = chr(int(match.group(1), 16))
            out.append(decoded if decoded in _UNRESERVED else match.group().upper())
            index += 3
            continue
        out.append(char if char < "\x80" else _escape_utf8(char))
        index += 1
    return "".join(out)


def _escape_utf8(char: str) -> str:
    # A lone surrogate (from undecodable bytes) is U+FFFD, as JavaScript's TextEncoder writes it.
    data = "\ufffd".encode() if 0xD800 <= ord(char) <= 0xDFFF else char.encode()
    return "".join(f"%{byte:02X}" for byte in data)


def form_decode(text: str) -> str:
    """A form or query component decoded: `+` is a space, escapes are UTF-8 (invalid: U+FFFD)."""
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    return _ESCAPES.sub(
        lambda m: bytes.fromhex(m.group().replace("%", "")).decode("utf-8", "replace"), text
    )


def pairs(text: str) -> list[tuple[str, str]]:
    """The decoded (name, value) pairs of a query or form body; empty items skipped."""
    out = []
    for item in text.split("&"):
        if item:
            name, _, value = item.partition("=")
            out.append((form_decode(name), form_decode(value)))
    return out


def query(raw: str) -> str:
    """The canonical query: each `key=value` decoded, keys in lower case, joined with `&`."""
    out = []
    for item in raw.split("&"):
        if item:
            name, sep, value = item.partition("=")
            out.append(ascii_lower(form_decode(name)) + sep + form_decode(value))
    return "&".join(out)


def methods(method: str, headers: Mapping[str, str], raw_query: str) -> frozenset[str]:
    """The method in upper case and any the request asks the site to take it as instead."""
    found = {ascii_upper(method.strip())}
    for name in OVERRIDE_HEADERS:
        value = headers.get(name)
        if value:  # a header sent twice arrives joined with commas; a site may read either
            found.update(ascii_upper(part.strip()) for part in value.split(","))
    for name, value in pairs(raw_query):
        if ascii_lower(name) == OVERRIDE_PARAMETER and value:
            found.add(ascii_upper(value.strip()))
    return frozenset(found)


def form_methods(text: str) -> frozenset[str]:
    """Methods a form body's `_method` field asks for (as Rails and Laravel read a POST)."""
    if OVERRIDE_PARAMETER not in ascii_lower(text):
        return frozenset()
    return frozenset(
        ascii_upper(value.strip())
        for name, value in pairs(text)
        if ascii_lower(name) == OVERRIDE_PARAMETER and value
    )


def accepts(endpoint_methods: frozenset[str], request_methods: frozenset[str]) -> bool:
    """Whether an endpoint of `endpoint_methods` takes a request of `request_methods`."""
    if endpoint_methods & request_methods:
        return True
    return "POST" in endpoint_methods and bool(WRITE_METHODS & request_methods)


def body_views(text: str, content_type: str = "") -> tuple[str, ...]:
    """`text` and the decoded views of it a site may read; a pattern matching any one matches."""
    views: list[str] = []
    boundary = _BOUNDARY.search(content_type) if "multipart/" in ascii_lower(content_type) else None
    if boundary is not None:
        parts = list(_multipart(text, boundary.group(1)))
        views.append("&".join(f"{name}={value}" for name, value in parts))
        for _, value in parts:
            views.extend(_views(value, DEPTH - 1))
    views.extend(_views(text, DEPTH))
    return tuple(dict.fromkeys(views))  # each view once, in order


def _views(text: str, depth: int) -> Iterator[str]:
    yield text
    if depth <= 0:
        return
    if "=" in text and ("%" in text or "+" in text or "&" in text):
        fields = pairs(text)
        yield "&".join(f"{name}={value}" for name, value in fields)
        for _, value in fields:
            if _looks_like_json(value) or "\\" in value:
                yield from _views(value, depth - 1)
    if "\\" in text:
        yield json_unescape(text)
    if _looks_like_json(text):
        for value in _json_strings(text):
            if _looks_like_json(value) or "\\" in value or "%" in value:
                yield from _views(value, depth - 1)


def _looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def json_unescape(text: str) -> str:
    """JSON escapes written as the characters they stand for, where that keeps the text's shape:
    `\\u0053` is `S`, `\\/` is `/`; a quote, a backslash or a control character stays escaped."""

    def one(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape == "/":
            return "/"
        if len(escape) == 5:
            char = chr(int(escape[1:], 16))
            if char == '"':
                return '\\"'
            if char == "\\":
                return "\\\\"
            if char >= " ":
                return char
        return match.group()

    return _JSON_ESCAPE.sub(one, text)


def _json_strings(text: str) -> list[str]:
    """Every string (keys too) in `text` read as JSON; none if it is not JSON."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return []
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            for key, inner in reversed(list(item.items())):
                stack.append(inner)
                stack.append(key)
    return found


def _no_constant(name: str) -> object:
    raise ValueError(f"not JSON: {name}")  # NaN and Infinity, which JavaScript's JSON refuses


def _multipart(text: str, boundary: str) -> Iterator[tuple[str, str]]:
    for chunk in text.split(f"--{boundary}")[1:]:
        if chunk.startswith("--"):
            return
        head, sep, value = chunk.partition("\r\n\r\n")
        if not sep:
            head, sep, value = chunk.partition("\n\n")
        name = _PART_NAME.search(head)
        yield (name.group(1) if name else ""), value.removesuffix("\r\n").removesuffix("\n")
