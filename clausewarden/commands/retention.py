"""`clausewarden retention run`: delete events older than the retention period (clause 9.3)
now, keeping the daily rollups. The service also does this every hour by itself."""

import argparse
import asyncio
from datetime import UTC, datetime

from clausewarden.commands.service_args import add_store_options, config_from
from service import retention
from service.cli_support import bundle_source, open_store


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("retention", help="apply the retention period now", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True)
    add_store_options(actions.add_parser("run", help="delete expired events now"))
    parser.set_defaults(run=run)


async def _run(args: argparse.Namespace) -> int:
    config = config_from(args)
    _school, bundles, tz = bundle_source(config)
    async with open_store(config) as engine:
        summary = await retention.run(engine, bundles, tz, datetime.now(UTC))
    print(
        f"Deleted {summary['events_deleted']} events older than {summary['retention_days']} days "
        f"(before {summary['before']}) and {summary['requests_deleted']} stale account "
        "requests; daily totals kept."
    )
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
