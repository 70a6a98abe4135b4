"""`clausewarden events export [--from D] [--to D] [--format csv|jsonl]`: the event log's cells
(each resting on at least k distinct devices, with no device, sensor, event id or time of day),
oldest day first, streamed from the service's store to standard output (or --output); the last
line says how many cells are hidden and why. The same rules as the admin pages' export."""

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from clausewarden.commands.service_args import add_store_options, config_from
from service import exports
from service.cli_support import bundle_source, open_store
from service.queries import EventFilter


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("events", help="export stored events", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True)
    p = actions.add_parser("export", help="export the event log's cells")
    p.add_argument("--from", dest="start", type=date.fromisoformat, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=date.fromisoformat, metavar="YYYY-MM-DD")
    p.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    p.add_argument("--output", type=Path)
    add_store_options(p)
    parser.set_defaults(run=run)


async def _export(args: argparse.Namespace, out: TextIO) -> int:
    flt = EventFilter(start=args.start, end=args.end)
    fmt = "csv" if args.format == "csv" else "json"
    config = config_from(args)
    _school, bundles, tz = bundle_source(config)
    rows = 0
    async with open_store(config) as engine, engine.connect() as conn:
        k = (await bundles.settings(conn)).k_anonymity
        async for part in exports.parts(conn, tz, k, flt, fmt):
            text = part.decode()
            rows += text.count("\n")
            out.write(text)
    return rows - 2 if fmt == "csv" else rows - 1


def run(args: argparse.Namespace) -> int:
    if args.output:
        with args.output.open("w", encoding="utf-8", newline="") as out:
            count = asyncio.run(_export(args, out))
        print(f"{count} cells written to {args.output}", file=sys.stderr)
    else:
        asyncio.run(_export(args, sys.stdout))
    return 0
