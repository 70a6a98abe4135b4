"""`clausewarden serve`: run the service (event ingest, bundle, admin pages)."""

import argparse
import logging

from aiohttp import web

from clausewarden.commands.service_args import add_store_options, config_from


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("serve", help="run the service", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--secure-cookies", action="store_true", help="mark cookies Secure (behind TLS)"
    )
    add_store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import os

    from service.app import create_app

    os.umask(0o077)  # whatever the service writes (database, journals, keys) is its own only

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app(config_from(args, secure_cookies=args.secure_cookies))
    print(f"ClauseWarden service on http://{args.host}:{args.port}/", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0
