"""`clausewarden events export [--from D] [--to D] [--format csv|jsonl]`: the stored events,
oldest first, streamed from the service's store to standard output (or --output)."""

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from clausewarden.commands.service_args import add_store_options, config_from
from service import exports
from service.cli_support import open_store
from service.queries import EventFilter, stream_rows


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("events", help="export stored events", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True)
    p = actions.add_parser("export", help="export events")
    p.add_argument("--from", dest="start", type=date.fromisoformat, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=date.fromisoformat, metavar="YYYY-MM-DD")
    p.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    p.add_argument("--output", type=Path)
    add_store_options(p)
    parser.set_defaults(run=run)


async def _export(args: argparse.Namespace, out: TextIO) -> int:
    flt = EventFilter(start=args.start, end=args.end)
    count = 0
    out.write(exports.header(args.format).decode())
    async with open_store(config_from(args)) as engine, engine.connect() as conn:
        async for part in stream_rows(conn, flt):
            out.write(exports.encode(part, args.format).decode())
            count += len(part)
    return count


def run(args: argparse.Namespace) -> int:
    if args.output:
        with args.output.open("w", encoding="utf-8", newline="") as out:
            count = asyncio.run(_export(args, out))
        print(f"{count} events written to {args.output}", file=sys.stderr)
    else:
        asyncio.run(_export(args, sys.stdout))
    return 0
