"""`clausewarden user add NAME --role ROLE`: a person who logs in to the admin pages.
The password comes from CLAUSEWARDEN_PASSWORD or a prompt, never from an argument.

The very first headteacher is made here, on the server. After that, a headteacher or governor
made (or given that role) here waits until a different headteacher or governor approves it on
the Users page; every account made here is listed to every headteacher and governor."""

import argparse
import asyncio
import getpass
import os
import sys
from datetime import UTC, datetime

from clausewarden.commands.service_args import add_store_options, config_from
from service import store, user_store
from service.cli_support import open_store
from service.security import ROLES


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("user", help="add users or change their role", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True)
    p = actions.add_parser("add", help="add a user")
    p.add_argument("name")
    p.add_argument("--role", choices=ROLES, required=True)
    add_store_options(p)
    p = actions.add_parser("set", help="change a user's role, password or state")
    p.add_argument("name")
    p.add_argument("--role", choices=ROLES)
    p.add_argument("--password", action="store_true", help="set a new password (prompted)")
    p.add_argument("--disable", action="store_true")
    p.add_argument("--enable", action="store_true")
    add_store_options(p)
    p = actions.add_parser("list", help="list users")
    add_store_options(p)
    parser.set_defaults(run=run)


def read_password(env: str = "CLAUSEWARDEN_PASSWORD") -> str:
    password = os.environ.get(env)
    if password:
        return password
    if not sys.stdin.isatty():
        raise SystemExit(f"clausewarden user: set {env} or run in a terminal to be prompted")
    first = getpass.getpass("Password (10+ characters): ")
    if first != getpass.getpass("Again: "):
        raise SystemExit("clausewarden user: the passwords differ")
    return first


async def _run(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    async with open_store(config_from(args)) as engine:
        if args.action == "list":
            async with engine.connect() as conn:
                for row in await user_store.list_users(conn):
                    state = (
                        "disabled"
                        if row.disabled
                        else "waiting for approval"
                        if user_store.is_waiting(row)
                        else "active"
                    )
                    print(f"{row.name}\t{row.role}\t{state}")
            return 0
        try:
            async with engine.begin() as conn:
                if args.action == "add":
                    await user_store.add_user(
                        conn,
                        args.name,
                        args.role,
                        read_password(),
                        actor=user_store.CLI,
                        now=now,
                        from_cli=True,
                    )
                else:
                    disabled = True if args.disable else False if args.enable else None
                    await user_store.set_user(
                        conn,
                        args.name,
                        actor=user_store.CLI,
                        now=now,
                        role=args.role,
                        disabled=disabled,
                        password=read_password() if args.password else None,
                        from_cli=True,
                    )
                row = await user_store.get_user(conn, args.name)
        except store.StoreError as exc:
            print(f"clausewarden user: {exc}", file=sys.stderr)
            return 1
    print(f"User {args.name!r} {'added' if args.action == 'add' else 'changed'}.")
    if row is not None and user_store.is_waiting(row):
        print(
            f"Their {row.role} role waits for the approval of another headteacher or governor "
            "(Users page); until then they cannot log in."
        )
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
