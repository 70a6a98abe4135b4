"""`clausewarden demo [--sample-data]`: the service and the proxy together on 127.0.0.1, on the
embedded default (SQLite in the data folder). Creates the first admin user and registers the
proxy as a sensor, then says what to do next. Ctrl-C stops both."""

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from clausewarden.commands.service_args import add_store_options, config_from
from service import sample, store, user_store
from service.cli_support import bundle_source, open_store
from service.config import Config, write_secret_file

SENSOR = "demo-proxy"


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "demo", help="run the service and the proxy together", description=__doc__
    )
    parser.add_argument("--port", type=int, default=8080, help="the service's port")
    parser.add_argument("--proxy-port", type=int, default=8081)
    parser.add_argument(
        "--sample-data", action="store_true", help="fill the store with a term of sample events"
    )
    parser.add_argument("--no-proxy", action="store_true", help="start the service only")
    parser.add_argument(
        "--confdir",
        type=Path,
        default=Path.home() / ".mitmproxy",
        help="the proxy's mitmproxy folder, where its CA lives (default ~/.mitmproxy)",
    )
    parser.add_argument(
        "--proxy-set",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="pass an option to the proxy (mitmproxy --set)",
    )
    add_store_options(parser)
    parser.set_defaults(run=run)


async def prepare(config: Config, token_file: Path, sample_data: bool) -> tuple[str | None, int]:
    """(new admin password or None if an admin existed, sample events stored)."""
    now = datetime.now(UTC)
    password = None
    async with open_store(config) as engine:
        async with engine.begin() as conn:
            if not await user_store.has_users(conn):
                password = os.environ.get("CLAUSEWARDEN_ADMIN_PASSWORD") or secrets.token_urlsafe(
                    12
                )
                await user_store.add_user(conn, "admin", "admin", password, actor="demo", now=now)
            row = await store.get_sensor(conn, SENSOR)
            if row is None or row.revoked_at or not token_file.exists():
                if row is not None and not row.revoked_at:
                    await store.revoke_sensor(conn, SENSOR, actor="demo", now=now)
                if row is not None:
                    await store.delete_sensor(conn, SENSOR)
                token = await store.add_sensor(conn, SENSOR, actor="demo", now=now)
                write_secret_file(token_file, token.encode())
        stored = 0
        if sample_data:
            school, bundles, _tz = bundle_source(config)
            async with engine.connect() as conn:
                bundle, _etag = await bundles.bundle(conn, now)
                settings = await bundles.settings(conn)
            stored = await sample.load(
                engine,
                school,
                bundle,
                sensor=SENSOR,
                now=now,
                retention_days=settings.retention_days,
            )
    return password, stored


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"it exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout:.0f}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    data = config.data_dir
    data.mkdir(parents=True, exist_ok=True)
    token_file = data / "demo-proxy.token"
    password, stored = asyncio.run(prepare(config, token_file, args.sample_data))
    common = ["--data-dir", str(data)]
    if args.config:
        common += ["--config", str(args.config)]
    if args.database:
        common += ["--database", args.database]
    service_url = f"http://127.0.0.1:{args.port}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        serve = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "clausewarden", "serve", "--port", str(args.port), *common]
        )
        processes.append(serve)
        _wait_for(args.port, serve)
        confdir = args.confdir
        if not args.no_proxy:
            proxy_args = [
                "--listen-host", "127.0.0.1",
                "--listen-port", str(args.proxy_port),
                "--service-url", service_url,
                "--sensor-token-file", str(token_file),
                "--sensor-name", SENSOR,
                "--data-dir", str(data / "proxy"),
                "--confdir", str(confdir),
            ]  # fmt: skip
            for option in args.proxy_set:
                proxy_args += ["--set", option]
            if args.config:
                proxy_args += ["--config", str(args.config)]
            proxy = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
                [sys.executable, "-m", "clausewarden", "proxy", *proxy_args]
            )
            processes.append(proxy)
            _wait_for(args.proxy_port, proxy)
        print()
        print("ClauseWarden demo is running on 127.0.0.1.")
        if not args.no_proxy:
            print(
                f"  Proxy:      127.0.0.1:{args.proxy_port} (set it as the browser's HTTP(S) proxy)"
            )
            print(f"  CA file:    {confdir / 'mitmproxy-ca-cert.pem'} (trust it in the browser)")
        print(f"  Admin:      {service_url}/  (privacy page: {service_url}/privacy)")
        if password is not None:
            shown = (
                "from CLAUSEWARDEN_ADMIN_PASSWORD"
                if os.environ.get("CLAUSEWARDEN_ADMIN_PASSWORD")
                else password
            )
            print(f"  Log in as:  admin / {shown}  (shown once; change it: Change password)")
        else:
            print("  Log in as:  an existing user (the admin was created on a previous run)")
        print(f"  Sensor:     {SENSOR}, token in {token_file} (0600)")
        if args.sample_data:
            print(f"  Sample:     {stored} anonymised events of this term added")
        print("Press Ctrl-C to stop.", flush=True)
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("A process stopped; stopping the demo.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping.", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"clausewarden demo: could not start: {exc}", file=sys.stderr)
        return 1
    finally:
        for process in reversed(processes):
            _stop(process)
