"""`clausewarden audit verify [--anchor COUNT:HASH]`: walk the audit log's chain (keyed with the
data folder's audit.key); exit 1 if an entry was edited or deleted, or, given an anchor the
governors wrote down from the audit page, if the log no longer holds it (rewritten or cut off)."""

import argparse
import asyncio
import sys

from clausewarden.commands.service_args import add_store_options, config_from
from service import audit
from service.cli_support import open_store


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("audit", help="check the audit log", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True)
    p = actions.add_parser("verify", help="verify the chain (and an anchor)")
    p.add_argument(
        "--anchor",
        metavar="COUNT:HASH",
        help="the line the audit page showed when it was written down, e.g. 42:3f9a0c1b2d4e5f60",
    )
    add_store_options(p)
    parser.set_defaults(run=run)


async def _run(args: argparse.Namespace) -> int:
    anchor = None
    if args.anchor is not None:
        try:
            anchor = audit.parse_anchor(args.anchor)
        except ValueError as exc:
            print(f"clausewarden audit: {exc}", file=sys.stderr)
            return 2
    async with open_store(config_from(args)) as engine, engine.connect() as conn:
        count, problems = await audit.verify(conn, anchor)
        head_count, head_hash = await audit.head(conn)
    if problems:
        print(f"The audit log has been tampered with ({len(problems)} problems):")
        for problem in problems:
            print(f"  {problem}")
        return 1
    held = f" and still holds the anchor {anchor[0]}:{anchor[1]}" if anchor else ""
    print(f"All {count} audit log entries verified: the keyed hash chain is intact{held}.")
    print(f"The head now: {head_count}:{head_hash[: audit.MIN_ANCHOR_HEX]}")
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
