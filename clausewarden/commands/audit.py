"""`clausewarden audit verify`: walk the audit log's hash chain; exit 1 if an entry was edited
or deleted."""

import argparse
import asyncio

from clausewarden.commands.service_args import add_store_options, config_from
from service import audit
from service.cli_support import open_store


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("audit", help="check the audit log", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True)
    add_store_options(actions.add_parser("verify", help="verify the hash chain"))
    parser.set_defaults(run=run)


async def _run(args: argparse.Namespace) -> int:
    async with open_store(config_from(args)) as engine, engine.connect() as conn:
        count, problems = await audit.verify(conn)
    if problems:
        print(f"The audit log has been tampered with ({len(problems)} problems):")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"All {count} audit log entries verified: the hash chain is intact.")
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
