"""`clausewarden` command line. Each command lives in clausewarden/commands/<name>.py."""

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from policy.errors import ConfigError

COMMAND_MODULES = (
    "check",
    "bundle",
    "config",
    "proxy",
    "outbox",
    "ca",
    "pac",
    "extension_policy",
    "serve",
    "user",
    "sensor",
    "events",
    "retention",
    "audit",
    "dpia",
    "backup",
    "restore",
    "doctor",
    "demo",
    "platforms",
    "clauses",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that command's module is imported (a command's imports
    are its own cost: `check` need not load mitmproxy or the service)."""
    parser = argparse.ArgumentParser(
        prog="clausewarden",
        description="Puts the school's Social Media Policy to work on its network, privately.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in (only,) if only in COMMAND_MODULES else COMMAND_MODULES:
        importlib.import_module(f"clausewarden.commands.{name}").register(sub)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The command word, when it comes first (anything else gets the full parser and its help)."""
    return argv[0] if argv and argv[0] in COMMAND_MODULES else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_command_named(argv)).parse_args(argv)
    try:
        result: int = args.run(args)
        sys.stdout.flush()  # here, so that a reader gone away is caught below
    except BrokenPipeError:
        return _reader_gone()
    except ConfigError as exc:
        print("The configuration has problems; nothing was started:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        line = _one_line(exc, args)
        if line is None:
            raise
        print(f"clausewarden {args.command}: {line}", file=sys.stderr)
        return 1
    return result


def _reader_gone() -> int:
    """`clausewarden check URL | head`: the reader stopped reading, which is no error of ours.
    Nothing more is written (stdout points at /dev/null, so the flush at exit cannot fail)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141  # as a shell reports a command ended by SIGPIPE


def _one_line(exc: Exception, args: argparse.Namespace) -> str | None:
    """The line that names the fix for a mistake a person can make, or None (a real bug keeps
    its traceback)."""
    from clausewarden.problems import CommandError, explain_database

    if isinstance(exc, CommandError):
        return str(exc)
    if hasattr(args, "database"):
        return explain_database(exc, getattr(args, "database", None))
    return None


if __name__ == "__main__":
    sys.exit(main())
