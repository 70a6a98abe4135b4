"""Reading a sensor token from a file (`check --token-file`, `doctor --token-file`).

A token file holds the token alone, as `clausewarden sensor add NAME > NAME.token` writes it. A
file holding anything else (the two lines an older `sensor add` printed, a pasted paragraph) is
refused in one line that never shows the file's text: it may hold a token."""

import re
from pathlib import Path

TOKEN = re.compile(r"[A-Za-z0-9_-]{8,200}")
"""A token's characters (`cws_`, `cwl_`, `cwa_` and urlsafe base64): nothing that can break a
header line."""


class TokenFileError(ValueError):
    """The file cannot be used; `str()` is one line naming the fix, never the file's text."""


def read_token_file(path: Path, option: str = "--token-file") -> str:
    """The one token `path` holds, or TokenFileError."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = "\0"  # not text: refused below as not a token
    except OSError as exc:
        raise TokenFileError(f"{option} {path}: {exc.strerror or exc}") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise TokenFileError(f"{option} {path} is empty; put a sensor token in it")
    if len(lines) != 1 or not TOKEN.fullmatch(lines[0]):
        raise TokenFileError(
            f"{option} {path} does not hold one sensor token alone ({len(lines)} line"
            f"{'' if len(lines) == 1 else 's'}, not shown): write it again with "
            "`clausewarden sensor add NAME > FILE`, which saves the token only"
        )
    return lines[0]
