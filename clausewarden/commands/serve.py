"""`clausewarden serve`: run the service (event ingest, bundle, admin pages).

`--database` takes sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB (postgres:// too): the
service runs them on their async drivers (aiosqlite, asyncpg)."""

import argparse
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from clausewarden.commands.service_args import add_store_options, config_from
from clausewarden.problems import (
    CommandError,
    check_port_free,
    parse_at,
    port_in_use,
    port_taken_line,
)

FIRST_USER_HINT = (
    "No one can log in yet: create the first headteacher on this server with\n"
    "  clausewarden user add NAME --role headteacher\n"
    "(the password from CLAUSEWARDEN_PASSWORD, or asked); they then add the others on /users."
)


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("serve", help="run the service", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--secure-cookies", action="store_true", help="mark cookies Secure (behind TLS)"
    )
    parser.add_argument(
        "--at",
        metavar="ISO",
        help="for demonstrations only (clausewarden demo --at): take this time as now",
    )
    add_store_options(parser)
    parser.set_defaults(run=run)


def _started(url: str) -> Callable[[web.Application], Awaitable[None]]:
    async def say(app: web.Application) -> None:
        """Once the database answered: where the service is, and who can log in."""
        from service import user_store
        from service.keys import ENGINE

        print(f"ClauseWarden service on {url}", flush=True)
        async with app[ENGINE].connect() as conn:
            if not await user_store.has_users(conn):
                print(FIRST_USER_HINT, flush=True)

    return say


def run(args: argparse.Namespace) -> int:
    import os

    from service.app import create_app

    os.umask(0o077)  # whatever the service writes (database, journals, keys) is its own only
    extra: dict[str, object] = {"secure_cookies": args.secure_cookies}
    from service.config import smtp_from_environment

    try:  # the school's SMTP server, for the reports staff send the headteacher
        extra["smtp"] = smtp_from_environment(os.environ)
    except ValueError as exc:
        raise SystemExit(f"clausewarden serve: {exc}") from None
    if args.at:
        at = parse_at(args.at)
        extra["clock"] = lambda: at
    config = config_from(args, **extra)
    config.url  # noqa: B018 - a --database the service cannot use is said before anything starts
    check_port_free(args.host, args.port, "--port")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app(config)
    app.on_startup.append(_started(f"http://{args.host}:{args.port}/"))
    try:
        web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    except OSError as exc:
        if port_in_use(exc):
            raise CommandError(port_taken_line(args.host, args.port, "--port")) from None
        raise
    return 0
