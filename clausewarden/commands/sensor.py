"""`clausewarden sensor add NAME` / `revoke NAME` / `list`: the proxies and extensions that
post events. `add` prints the token once, alone on the last line."""

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from clausewarden.commands.service_args import add_store_options, config_from
from service import sensor_store, store
from service.cli_support import open_store


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("sensor", help="add, revoke or list sensors", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True)
    for name, help_text in (("add", "register a sensor"), ("revoke", "revoke a sensor")):
        p = actions.add_parser(name, help=help_text)
        p.add_argument("name")
        add_store_options(p)
    p = actions.add_parser("list", help="list sensors")
    add_store_options(p)
    parser.set_defaults(run=run)


async def _run(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    async with open_store(config_from(args)) as engine:
        if args.action == "list":
            async with engine.connect() as conn:
                for row in await sensor_store.list_sensors(conn):
                    state = f"revoked {row.revoked_at}" if row.revoked_at else "active"
                    print(f"{row.name}\t{state}\tlast seen {row.last_seen or 'never'}")
            return 0
        try:
            async with engine.begin() as conn:
                if args.action == "add":
                    token = await sensor_store.add_sensor(conn, args.name, actor="cli", now=now)
                else:
                    await sensor_store.revoke_sensor(conn, args.name, actor="cli", now=now)
        except store.StoreError as exc:
            print(f"clausewarden sensor: {exc}", file=sys.stderr)
            return 1
    if args.action == "add":
        print(f"Sensor {args.name!r} added. Its token (shown once, stored only as a hash):")
        print(token)
    else:
        print(f"Sensor {args.name!r} revoked.")
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
