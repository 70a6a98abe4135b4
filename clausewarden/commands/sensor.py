"""`clausewarden sensor add NAME [--kind proxy|laptop|enrol]` / `revoke NAME` / `list` / `fleet
N`: the proxies and extensions that post events. `add` prints the token once, alone on stdout (the
rest goes to stderr), so `clausewarden sensor add laptops > laptops.token` saves the token only;
`--kind enrol` makes the laptops' enrolment secret (the only secret in the extension's managed
policy); `fleet N` states how many laptops may enrol before each needs approval."""

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from clausewarden.commands.service_args import add_store_options, config_from
from service import enrolment, sensor_store, store
from service.cli_support import open_store


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("sensor", help="add, revoke or list sensors", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True)
    for name, help_text in (("add", "register a sensor"), ("revoke", "revoke a sensor")):
        p = actions.add_parser(name, help=help_text)
        p.add_argument("name")
        if name == "add":
            p.add_argument(
                "--kind",
                choices=sensor_store.SENSOR_KINDS,
                default="proxy",
                help="proxy (a server, one per site; the default) or laptop (one extension's "
                "credential: investigation checks reach it only when the headteacher names it)",
            )
        add_store_options(p)
    p = actions.add_parser("list", help="list sensors")
    add_store_options(p)
    p = actions.add_parser(
        "fleet", help="state how many laptops may enrol before the admin must approve each"
    )
    p.add_argument("size", type=int)
    add_store_options(p)
    parser.set_defaults(run=run)


async def _run(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    async with open_store(config_from(args)) as engine:
        if args.action == "list":
            async with engine.connect() as conn:
                for row in await sensor_store.list_sensors(conn):
                    state = f"revoked {row.revoked_at}" if row.revoked_at else "active"
                    print(f"{row.name}\t{row.kind}\t{state}\tlast seen {row.last_seen or 'never'}")
            return 0
        try:
            async with engine.begin() as conn:
                if args.action == "fleet":
                    await enrolment.set_fleet_size(conn, args.size, actor="cli", now=now)
                    print(f"Fleet size {args.size}: enrolments beyond it wait for approval.")
                    return 0
                if args.action == "add":
                    token = await sensor_store.add_sensor(
                        conn, args.name, actor="cli", now=now, kind=args.kind
                    )
                else:
                    await sensor_store.revoke_sensor(conn, args.name, actor="cli", now=now)
        except store.StoreError as exc:
            print(f"clausewarden sensor: {exc}", file=sys.stderr)
            return 1
    if args.action == "add":
        # The token alone on stdout: `sensor add NAME > NAME.token` saves a file that holds the
        # token only (the proxy, `check --token-file`, `extension policy --token-file` read it).
        print(
            f"Sensor {args.name!r} added. Its token (shown once, stored only as a hash):",
            file=sys.stderr,
            flush=True,
        )
        print(token, flush=True)
    else:
        print(f"Sensor {args.name!r} revoked.")
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
