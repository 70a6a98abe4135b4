"""A real `clausewarden proxy` (mitmdump) for tests, and the constants the proxy tests share.

`start_proxy` is the one way the tests start the proxy: its folder holds `mitmproxy/` (the CA),
`data/` (outbox, keys, bundle) and `proxy.log`. With an upstream port, every request that gets
through reaches that local server (map_upstream.py), whatever host it asked for.
"""

import http.client
import itertools
import json
import os
import shutil
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from policy.configdir import DEFAULT_CONFIG_DIR, load_policy
from tests.support.net import free_port, stop, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
MAP_UPSTREAM = Path(__file__).resolve().parent / "map_upstream.py"
WORKING_TIME = "2026-11-25T10:00:00+00:00"  # a Wednesday in term, 10:00 in London
NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}
# How long a request through the proxy may wait for its answer: generous, as the proxy shares the
# machine with the other test workers (no test measures time with it).
TIMEOUT = 30

SCHOOL_ACCOUNTS = """\
accounts:
  - id: wycliffe-facebook-page
    platform: facebook
    account_id: "1000123"
    label: Wycliffe CE Primary School Facebook page
    approved_by: Miss Newman
    approved_on: 2026-09-01
    expires_on: 2027-08-31
    actions: [browse, post, message]
    kind: profile
  - id: old-facebook-page
    platform: facebook
    account_id: "1000999"
    label: An old class page
    approved_by: Miss Newman
    approved_on: 2025-09-01
    expires_on: 2026-07-31
    actions: [browse, post]
    kind: profile
"""

BLOCK_TIKTOK_RULE = """\
  - id: block-tiktok
    description: TikTok is blocked on school systems.
    match: {platforms: [tiktok]}
    outcome: block
    clauses: ["7"]
"""


def accounts_config(folder: Path) -> Path:
    """config/ copied to `folder`, with SCHOOL_ACCOUNTS (one current, one expired) and a rule
    that blocks TikTok."""
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    (folder / "accounts.yaml").write_text(SCHOOL_ACCOUNTS, encoding="utf-8")
    rules = (folder / "rules.yaml").read_text(encoding="utf-8")
    rules = rules.replace("rules:\n", "rules:\n" + BLOCK_TIKTOK_RULE, 1)
    (folder / "rules.yaml").write_text(rules, encoding="utf-8")
    return folder


_DEVICES = itertools.count(1)


def fresh_device() -> str:
    """A client address no test of this process used yet (127.0.1.1, 127.0.1.2, ...): to the
    proxy a new device, with no allowance, ticket or held act of its own (the shipped
    device_groups.yaml counts all of 127.0.0.0/8 as staff devices)."""
    n = next(_DEVICES)
    return f"127.0.{1 + n // 250}.{n % 250 + 1}"


class Proxy:
    """A running proxy: its process, port and folder; `get` sends one request through it.

    `device` is the client address its requests come from (127.0.0.1 unless set), and
    `events_from` the outbox position `outbox_events` starts at: `as_new_device()` gives a view
    of the same process for one test (see tests/support/__init__.py: a shared proxy).
    """

    def __init__(self, process: subprocess.Popen[bytes], port: int, folder: Path) -> None:
        self.process, self.port, self.folder = process, port, folder
        self.confdir, self.data, self.log = (
            folder / "mitmproxy",
            folder / "data",
            folder / "proxy.log",
        )
        self.device: str | None = None
        self.events_from = 0

    def as_new_device(self) -> "Proxy":
        """This same running proxy, as a new device sees it: requests from a fresh client
        address, and `outbox_events` showing only what was recorded from now on."""
        view = Proxy(self.process, self.port, self.folder)
        view.device = fresh_device()
        outbox = self.data / "outbox.sqlite3"
        if outbox.exists():  # every row, in the order `clausewarden outbox export` prints them
            with sqlite3.connect(outbox) as db:
                [(view.events_from,)] = db.execute("SELECT count(*) FROM events")
        return view

    def stop(self) -> None:
        stop(self.process)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def connect(
        self, scheme: str, host: str, trust: Path | None = None
    ) -> http.client.HTTPConnection:
        source = None if self.device is None else (self.device, 0)
        if scheme == "http":
            return http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=TIMEOUT, source_address=source
            )
        context = ssl.create_default_context(
            cafile=str(trust or self.confdir / "mitmproxy-ca-cert.pem")
        )
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.port, timeout=TIMEOUT, context=context, source_address=source
        )
        conn.set_tunnel(host, 443 if ":" not in host else None)
        return conn

    def get(
        self,
        scheme: str,
        host: str,
        path: str = "/",
        headers: dict[str, str] | None = None,
        method: str = "GET",
        body: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = self.connect(scheme, host)
        target = f"http://{host}{path}" if scheme == "http" else path
        conn.request(
            method, target, body=body, headers={**(NAVIGATE if headers is None else headers)}
        )
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def start_proxy(
    folder: Path,
    upstream_port: int | None = None,
    config: Path | None = None,
    now: str | None = WORKING_TIME,
    extra: Sequence[str] | None = None,
    service: tuple[str, Path] | None = None,
    args: Sequence[str] = (),
    inside: Callable[[Sequence[str]], list[str]] | None = None,
    listening: Callable[[int, "subprocess.Popen[bytes]"], None] | None = None,
    env: dict[str, str] | None = None,
) -> Proxy:
    """`clausewarden proxy` on a free port, its files in `folder`. `now` fixes its clock (None:
    the real one); `extra` are mitmproxy `--set` options; `service` is (URL, token file); `args`
    are further command-line arguments as an admin types them; `inside` wraps the command (run in
    a network namespace, netns.py) and `listening(port, process)` then waits for its port; `env`
    more environment."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "clausewarden", "proxy",
        "--listen-port", str(port),
        "--confdir", str(folder / "mitmproxy"),
        "--data-dir", str(folder / "data"),
    ]  # fmt: skip
    if upstream_port is not None:
        command += [
            "--script",
            str(MAP_UPSTREAM),
            "--set",
            f"map_upstream=127.0.0.1:{upstream_port}",
        ]
    if now is not None:
        command += ["--set", f"clausewarden_now={now}"]
    if config is not None:
        command += ["--config", str(config)]
    if service is not None:
        command += ["--service-url", service[0], "--sensor-token-file", str(service[1])]
    for option in extra or ():
        command += ["--set", option]
    command += list(args)
    log = (folder / "proxy.log").open("ab")
    if inside is not None:
        command = inside(command)
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env={**os.environ, **env} if env else None,
    )
    try:
        (listening or (lambda p, proc: wait_for_port(p, proc, timeout=60)))(port, process)
    except BaseException:
        stop(process)  # never leave a proxy behind a failed test
        raise
    return Proxy(process, port, folder)


def ticket_of(page: bytes) -> str:
    """The one-time ticket in a warning page's form."""
    return page.decode().split('name="ticket" value="', 1)[1].split('"', 1)[0]


def outbox_events(proxy: Proxy) -> list[dict[str, object]]:
    """The proxy's outbox as `clausewarden outbox export` prints it (from `proxy.events_from`)."""
    out = subprocess.run(
        [sys.executable, "-m", "clausewarden", "outbox", "export", "--data-dir", str(proxy.data)],
        capture_output=True,
        check=True,
    )
    return [json.loads(line) for line in out.stdout.splitlines()][proxy.events_from :]


# --- a proxy shipping its outbox to a service ---------------------------------------------

SITES = ("www.facebook.com", "www.instagram.com", "www.linkedin.com", "x.com", "www.reddit.com")
FAST = [
    "clausewarden_ship_delay=0.2",
    "clausewarden_ship_max_delay=0.5",
    "clausewarden_ship_batch_window=0.1",
]


def recent_working_time() -> str:
    """A recent hour in working time, so the service (retention, no future) accepts the events."""
    policy = load_policy(None)
    at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for _ in range(24 * 80):
        if policy.working_time(at):
            return at.isoformat()
        at -= timedelta(hours=1)
    raise AssertionError("no working time in the last 80 days")


def outbox_ids(proxy: Proxy, state: int) -> list[str]:
    """Ids of the outbox's events in `state` (0 pending, 1 shipped), read from the file itself."""
    with sqlite3.connect(proxy.data / "outbox.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT id FROM events WHERE state = ?", (state,))]


def wait_shipped(proxy: Proxy, count: int, timeout: float = 60) -> None:
    """Until the proxy's outbox says `count` events were accepted by the service."""
    deadline = time.monotonic() + timeout
    while len(outbox_ids(proxy, state=1)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(outbox_ids(proxy, state=1)) == count


def warn_on_every_site(proxy: Proxy, rounds: int = 1) -> None:
    for _ in range(rounds):
        for host in SITES:
            status, _, page = proxy.get("http", host, "/")
            assert status == 200 and b"Before you continue" in page


FAKETIME_LIB = next(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"), Path("libfaketime.so.1"))


def clock_off_by(offset: str) -> dict[str, str]:
    """The environment of a process whose machine clock is off by `offset` ("+2d"): libfaketime
    (Debian's faketime), the monotonic clock left alone so timers still run true."""
    if not FAKETIME_LIB.exists():
        pytest.fail("libfaketime is needed (apt-get install -y faketime; scripts/system-deps)")
    return {
        "LD_PRELOAD": str(FAKETIME_LIB),
        "FAKETIME": offset,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }
