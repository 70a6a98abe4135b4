"""`clausewarden serve`: run the service (event ingest, bundle, admin pages).

`--database` takes sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB (postgres:// too): the
service runs them on their async drivers (aiosqlite, asyncpg)."""

import argparse
import logging
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

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
        "--tls-cert",
        type=Path,
        metavar="FILE",
        help="serve HTTPS with this certificate (PEM, the chain after it); needs --tls-key",
    )
    parser.add_argument("--tls-key", type=Path, metavar="FILE", help="its private key (PEM)")
    parser.add_argument(
        "--trust-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a reverse proxy (e.g. 127.0.0.1 for nginx on this server) whose "
        "X-Forwarded-Proto and X-Forwarded-For are believed; repeat for more",
    )
    parser.add_argument(
        "--at",
        metavar="ISO",
        help="for demonstrations only (clausewarden demo --at): take this time as now",
    )
    add_store_options(parser)
    parser.set_defaults(run=run)


RESTART_NOTE = (
    "Configuration files are read at start: restart the service after editing them "
    "(systemctl restart clausewarden-service); what the Settings and School accounts pages "
    "change applies at once, and the proxy reloads its configuration folder by itself."
)


def _started(url: str) -> Callable[[web.Application], Awaitable[None]]:
    async def say(app: web.Application) -> None:
        """Once the database answered: where the service is, and who can log in."""
        from service import settings_store, user_store
        from service.keys import ENGINE

        print(f"ClauseWarden service on {url}", flush=True)
        print(RESTART_NOTE, flush=True)
        async with app[ENGINE].connect() as conn:
            for replaced in await settings_store.replaced_files(conn):
                print(settings_store.replaced_line(replaced), flush=True)
            if not await user_store.has_users(conn):
                print(FIRST_USER_HINT, flush=True)

    return say


def tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """aiohttp's own TLS from --tls-cert and --tls-key (TLS 1.2 or later), or None."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise CommandError("--tls-cert and --tls-key go together: give both files, or neither")
    for option, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not path.is_file():
            raise CommandError(f"{option}: {str(path)!r} is not a file; give the PEM file's path")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise CommandError(
            f"--tls-cert {cert} with --tls-key {key} cannot be used ({exc.strerror or exc}): "
            "give the PEM certificate and the PEM private key that belongs to it"
        ) from None
    return context


def where_line(args: argparse.Namespace, data_dir: Path) -> str:
    """One line: which configuration folder and which data folder this service uses, and why."""
    import os

    from policy.configdir import find_config_dir

    config_dir, why = find_config_dir(args.config)
    if getattr(args, "data_dir_given", False):
        data_why = "--data-dir"
    elif os.environ.get("CLAUSEWARDEN_DATA"):
        data_why = "CLAUSEWARDEN_DATA"
    else:
        data_why = "the default"
    database = "" if args.database is None else "; events in the --database given"
    shown = config_dir.resolve()
    return f"Configuration: {shown} ({why}); data folder: {data_dir} ({data_why}){database}"


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
    from service.security import parse_networks

    tls = tls_context(args.tls_cert, args.tls_key)
    try:
        extra["trusted_proxies"] = tuple(args.trust_proxy)
        parse_networks(args.trust_proxy)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    config = config_from(args, **extra)
    print(where_line(args, config.data_dir), flush=True)
    config.url  # noqa: B018 - a --database the service cannot use is said before anything starts
    check_port_free(args.host, args.port, "--port")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app(config)
    scheme = "https" if tls else "http"
    app.on_startup.append(_started(f"{scheme}://{args.host}:{args.port}/"))
    try:
        web.run_app(
            app, host=args.host, port=args.port, ssl_context=tls, print=None, access_log=None
        )
    except OSError as exc:
        if port_in_use(exc):
            raise CommandError(port_taken_line(args.host, args.port, "--port")) from None
        raise
    return 0
