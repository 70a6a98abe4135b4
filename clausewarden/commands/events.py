"""`clausewarden events export [--from D] [--to D] [--format csv|jsonl]`: the stored events,
oldest first, streamed from the service's store to standard output (or --output)."""

import argparse
import asyncio
import csv
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

import orjson

from service.cli_support import add_store_options, config_from, open_store
from service.queries import EVENT_COLUMNS, EventFilter, csv_cells, event_json, page_query


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
    query = page_query(
        EventFilter(start=args.start, end=args.end), cursor=None, newest_first=False, limit=None
    )
    count = 0
    writer = csv.writer(out)
    if args.format == "csv":
        writer.writerow(EVENT_COLUMNS)
    async with open_store(config_from(args)) as engine, engine.connect() as conn:
        result = await conn.stream(query)
        async for partition in result.partitions(1000):
            for row in partition:
                if args.format == "csv":
                    writer.writerow(csv_cells(row))
                else:
                    out.write(orjson.dumps(event_json(row)).decode() + "\n")
            count += len(partition)
    return count


def run(args: argparse.Namespace) -> int:
    if args.output:
        with args.output.open("w", encoding="utf-8", newline="") as out:
            count = asyncio.run(_export(args, out))
        print(f"{count} events written to {args.output}", file=sys.stderr)
    else:
        asyncio.run(_export(args, sys.stdout))
    return 0
