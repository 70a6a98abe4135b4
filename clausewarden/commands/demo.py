"""`clausewarden demo [--sample-data] [--at ISO]`: the service and the proxy together on
127.0.0.1, on the embedded default (SQLite in the data folder). On the first run it creates an
admin and the first headteacher (as `clausewarden user add NAME --role headteacher` would, so a
second person is there to approve headteacher and governor roles) and registers the proxy as a
sensor, then says what to do next. Ctrl-C, SIGTERM or SIGHUP stop both.

`--at 2026-11-25T10:00:00Z` runs the whole demo at that moment, stopped: the proxy decides and
records every event as at that time (its `clausewarden_now`), and the service takes the same time
as its own clock, so the events are not refused as future ones, the dashboard counts them on
that day, and approvals and expiry dates are reckoned from it. Without it both use the real
time. One demo runs per data folder."""

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from clausewarden.commands.service_args import add_store_options, config_from
from clausewarden.problems import CommandError, check_port_free, parse_at
from service import sample, sensor_store, user_store
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
        "--at",
        metavar="ISO",
        help="run the demo as if it were this time, e.g. 2026-11-25T10:00:00Z (the proxy and "
        "the service both take it as now)",
    )
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


HEADTEACHER = "headteacher"


async def prepare(
    config: Config, token_file: Path, sample_data: bool
) -> tuple[dict[str, str], int]:
    """(the logins made now, name -> password: none if users existed; sample events stored)."""
    now = config.clock()
    made: dict[str, str] = {}
    async with open_store(config) as engine:
        async with engine.begin() as conn:
            if not await user_store.has_users(conn):
                password = os.environ.get("CLAUSEWARDEN_ADMIN_PASSWORD") or secrets.token_urlsafe(
                    12
                )
                await user_store.add_user(conn, "admin", "admin", password, actor="demo", now=now)
                made["admin"] = password
                # The first headteacher, as `clausewarden user add NAME --role headteacher` makes
                # it: approved by the server. A headteacher or governor the admin adds then waits
                # for this second person's approval, so the four-eyes flow can be tried at once.
                head = os.environ.get("CLAUSEWARDEN_HEADTEACHER_PASSWORD") or secrets.token_urlsafe(
                    12
                )
                await user_store.add_user(
                    conn,
                    HEADTEACHER,
                    "headteacher",
                    head,
                    actor=user_store.CLI,
                    now=now,
                    from_cli=True,
                )
                made[HEADTEACHER] = head
            row = await sensor_store.get_sensor(conn, SENSOR)
            if row is None or row.revoked_at or not token_file.exists():
                if row is not None and not row.revoked_at:
                    await sensor_store.revoke_sensor(conn, SENSOR, actor="demo", now=now)
                if row is not None:
                    await sensor_store.delete_sensor(conn, SENSOR)
                token = await sensor_store.add_sensor(conn, SENSOR, actor="demo", now=now)
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
    return made, stored


def _wait_for(port: int, process: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped (its message is above)")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _Stopped(Exception):
    """SIGTERM or SIGHUP: stop the demo as Ctrl-C does."""


def _stop_on_signals() -> None:
    def stopped(signum: int, _frame: object) -> None:
        for other in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(other, signal.SIG_IGN)  # stopping now: a second signal waits for it
        raise _Stopped(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stopped)
    signal.signal(signal.SIGHUP, stopped)


def _hold_data_folder(data: Path) -> Any:
    """One demo per data folder: an exclusive lock on data/demo.lock, held while it runs (the
    kernel lets go when the process ends, however it ends). CommandError if another holds it."""
    import fcntl

    lock = open(data / "demo.lock", "a+")  # noqa: SIM115 - held open for the demo's lifetime
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.seek(0)
        pid = lock.read().strip() or "?"
        lock.close()
        raise CommandError(
            f"a demo is already running from {data} (process {pid}): use that one, or stop it "
            f"with Ctrl-C in its window (or kill {pid}) before starting another"
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(str(os.getpid()))
    lock.flush()
    return lock


def run(args: argparse.Namespace) -> int:
    at = parse_at(args.at) if args.at else None
    config = config_from(args, **({"clock": lambda: at} if at else {}))
    config.url  # noqa: B018 - a --database the service cannot use is said before anything starts
    data = config.data_dir
    data.mkdir(parents=True, exist_ok=True)
    lock = _hold_data_folder(data)
    check_port_free("127.0.0.1", args.port, "--port")
    if not args.no_proxy:
        check_port_free("127.0.0.1", args.proxy_port, "--proxy-port")
    token_file = data / "demo-proxy.token"
    made, stored = asyncio.run(prepare(config, token_file, args.sample_data))
    common = ["--data-dir", str(data)]
    if args.config:
        common += ["--config", str(args.config)]
    if args.database:
        common += ["--database", args.database]
    service_url = f"http://127.0.0.1:{args.port}"
    processes: list[subprocess.Popen[bytes]] = []
    _stop_on_signals()
    try:
        serve_args = ["serve", "--port", str(args.port), *common]
        if at is not None:
            serve_args += ["--at", at.isoformat()]
        serve = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "clausewarden", *serve_args]
        )
        processes.append(serve)
        _wait_for(args.port, serve, "the service")
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
            given = {option.partition("=")[0] for option in args.proxy_set}
            if at is not None and "clausewarden_now" not in given:
                proxy_args += ["--set", f"clausewarden_now={at.isoformat()}"]
            for option in args.proxy_set:
                proxy_args += ["--set", option]
            if args.config:
                proxy_args += ["--config", str(args.config)]
            proxy = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
                [sys.executable, "-m", "clausewarden", "proxy", *proxy_args]
            )
            processes.append(proxy)
            _wait_for(args.proxy_port, proxy, "the proxy")
        print()
        print("ClauseWarden demo is running on 127.0.0.1.")
        if at is not None:
            print(f"  Time:       {at.isoformat()} for the proxy and the service (--at)")
        if not args.no_proxy:
            print(
                f"  Proxy:      127.0.0.1:{args.proxy_port} (set it as the browser's HTTP(S) proxy)"
            )
            print(f"  CA file:    {confdir / 'mitmproxy-ca-cert.pem'} (trust it in the browser)")
        print(f"  Admin:      {service_url}/  (privacy page: {service_url}/privacy)")
        if made:
            for name, env in (
                ("admin", "CLAUSEWARDEN_ADMIN_PASSWORD"),
                (HEADTEACHER, "CLAUSEWARDEN_HEADTEACHER_PASSWORD"),
            ):
                shown = f"from {env}" if os.environ.get(env) else made[name]
                label = "Log in as:" if name == "admin" else "Headteacher:"
                print(f"  {label:<11} {name} / {shown}  (shown once; change it: Change password)")
            print(
                "              a governor (four eyes): clausewarden user add NAME --role "
                "governor, then the headteacher approves it on Users"
            )
        else:
            print("  Log in as:  an existing user (the users were created on a previous run)")
        print(f"  Sensor:     {SENSOR}, token in {token_file} (0600)")
        if args.sample_data:
            print(f"  Sample:     {stored} anonymised events of this term added")
        else:
            print("  Sample:     none; `clausewarden demo --sample-data` fills a term of events")
        print("Press Ctrl-C to stop.", flush=True)
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("A process stopped; stopping the demo.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping.", flush=True)
        return 0
    except _Stopped as exc:
        print(f"\nStopping ({exc}).", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"clausewarden demo: could not start: {exc}", file=sys.stderr)
        return 1
    finally:
        for process in reversed(processes):
            _stop(process)
        lock.close()
