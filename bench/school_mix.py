"""What a whole school's traffic costs ClauseWarden, side by side with e2guardian, in one run.

Run (as root: each proxy gets its own /etc/hosts in a private mount namespace, and e2guardian
drops to its own user): .venv/bin/python bench/school_mix.py [--requests 6000] [--rate 200]

A school's mix on loopback, generated once (seeded) and replayed the same through each of:
  direct                no proxy at all (the reference for added latency);
  ClauseWarden, PAC     `clausewarden proxy` as docs/deploy.md runs it, devices following the PAC
                        file of `clausewarden pac` (evaluated by node): the catalogue's hosts go to
                        the proxy (decrypted there), everything else DIRECT, never seen by it;
  ClauseWarden, forced  the same proxy with all web traffic sent to it (`clausewarden pac --all`):
                        non-catalogue HTTPS is an opaque tunnel, plain http passes through it;
  e2guardian, forced    e2guardian from the Debian package, its shipped configuration on loopback
                        (it does not decrypt: HTTPS is tunnelled), all web traffic sent to it.
The mix: mostly HTTPS to non-social hosts, about one request in ten to the catalogue (navigations,
which ClauseWarden answers with its warning page in working time, and their XHR and images), new
connections and reused ones. Runs are interleaved in slices (the order rotating), the proxies
pinned to one core, the load generator and the upstream on the others. Printed: each proxy's CPU
(/proc/<pid>/stat utime+stime, children included) per 1,000 requests of the mix, and the p50/p99
latency each adds over direct, with ratios against e2guardian measured in the same run.
Not part of CI or the tests: the machine is shared and noisy (compare ratios, not absolutes).
"""

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLAUSEWARDEN = str(BIN / "clausewarden")
TICK = os.sysconf("SC_CLK_TCK")
WORKING_TIME = "2026-11-25T10:00:00+00:00"  # a Wednesday in term, 10:00 in London: warnings

# The catalogue's hosts a staff member's browser meets, weighted: pages (a navigation, then XHR)
# and their CDNs (images). Each is checked against the PAC file at start.
CATALOGUE: list[tuple[str, str, int]] = [
    ("www.facebook.com", "page", 30),
    ("static.xx.fbcdn.net", "cdn", 20),
    ("scontent.xx.fbcdn.net", "cdn", 10),
    ("www.linkedin.com", "page", 20),
    ("media.licdn.com", "cdn", 10),
    ("www.instagram.com", "page", 5),
    ("x.com", "page", 3),
    ("pbs.twimg.com", "cdn", 2),
]
OTHER_HOSTS = 240  # distinct non-social hosts, Zipf-weighted (a few sites take most requests)

BASE_HEADERS = {
    "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Accept-Encoding": "gzip, deflate, br",
    "Accept-Language": "en-GB,en;q=0.9",
}
KIND_HEADERS = {
    "nav": {
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Site": "none",
        "Upgrade-Insecure-Requests": "1",
    },
    "xhr": {"Accept": "application/json", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"},
    "img": {"Accept": "image/avif,image/webp,*/*", "Sec-Fetch-Mode": "no-cors",
            "Sec-Fetch-Dest": "image"},
}  # fmt: skip
PATHS = {"nav": "/", "xhr": "/api/feed?cursor=", "img": "/images/"}
CONTENT_TYPES = {b"/": b"text/html; charset=utf-8", b"/api": b"application/json"}


@dataclass(frozen=True)
class Visit:
    """One connection a browser opens to one host, and the requests it sends over it."""

    host: str
    https: bool
    catalogue: bool
    kinds: tuple[str, ...]


@dataclass
class Result:
    latencies: list[tuple[float, bool]] = field(default_factory=list)  # (ms, catalogue)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    cpu: float = 0.0
    seconds: float = 0.0
    slice_cpu: list[float] = field(default_factory=list)
    slice_p99: list[float] = field(default_factory=list)


# --- the mix ----------------------------------------------------------------------------------


def other_hosts() -> list[str]:
    return [
        f"www.school-site{i}.example" if i % 3 else f"cdn{i}.example-cdn.net"
        for i in range(OTHER_HOSTS)
    ]


def make_mix(
    n: int, rng: random.Random, share: float, plain: float, per_connection: float
) -> list[Visit]:
    """Visits totalling `n` requests: a third of connections carry one request, the others a
    few (exponential), so the mean is `per_connection`; catalogue visits with probability
    `share`, non-catalogue ones over plain http with probability `plain`."""
    hosts = other_hosts()
    weights = [1 / (rank + 1) for rank in range(len(hosts))]
    cat_hosts = [(h, k) for h, k, _ in CATALOGUE]
    cat_weights = [w for _, _, w in CATALOGUE]
    extra_mean = max(0.0, (per_connection - 1) * 1.5)  # (1/3)*1 + (2/3)*(1 + m) = mean
    visits: list[Visit] = []
    total = 0
    while total < n:
        k = 1 if rng.random() < 1 / 3 else 1 + round(rng.expovariate(1 / extra_mean or 1))
        k = min(k, 40, n - total)
        if rng.random() < share:
            host, kind = rng.choices(cat_hosts, cat_weights)[0]
            https, catalogue = True, True
            if kind == "page":
                kinds = ("nav",) + ("xhr",) * (k - 1) if rng.random() < 0.5 else ("xhr",) * k
            else:
                kinds = ("img",) * k
        else:
            host = rng.choices(hosts, weights)[0]
            https, catalogue = rng.random() >= plain, False
            first = "nav" if rng.random() < 0.4 else "img"
            kinds = (first,) + tuple(rng.choice(("img", "xhr")) for _ in range(k - 1))
        visits.append(Visit(host, https, catalogue, kinds))
        total += k
    return visits


# --- the upstream (its own process): every host, keep-alive, plain http and TLS -----------------


def _upstream_main(port: int, tls_port: int, cert: str, key: str, body_size: int) -> None:
    bodies = {}
    for prefix, ctype in (*CONTENT_TYPES.items(), (b"", b"image/jpeg")):
        body = (b"<!doctype html><p>" if ctype.startswith(b"text") else b"") + b"x" * body_size
        bodies[prefix] = (
            b"HTTP/1.1 200 OK\r\nX-Upstream: 1\r\nContent-Type: " + ctype + b"\r\n"
            b"Cache-Control: max-age=60\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1]
                if path.startswith(b"http"):
                    path = b"/" + path.split(b"/", 3)[-1]
                if path == b"/":
                    writer.write(bodies[b"/"])
                elif path.startswith(b"/api"):
                    writer.write(bodies[b"/api"])
                else:
                    writer.write(bodies[b""])
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, IndexError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        await asyncio.start_server(serve, "127.0.0.1", port, backlog=1024)
        await asyncio.start_server(serve, "127.0.0.1", tls_port, ssl=context, backlog=1024)
        await asyncio.Event().wait()

    asyncio.run(main())


def upstream_certificate(folder: Path, hosts: list[str]) -> tuple[Path, Path, Path]:
    """A certificate for every host of the mix, from a CA of its own: (cert, key, CA cert)."""
    from cryptography.hazmat.primitives import serialization
    from mitmproxy import certs

    store = certs.CertStore.from_store(folder, "upstream", 2048)
    entry = store.get_cert(hosts[0], hosts)
    cert, key = folder / "upstream-site.pem", folder / "upstream-site-key.pem"
    cert.write_bytes(entry.cert.to_pem())
    key.write_bytes(
        entry.privatekey.private_bytes(  # type: ignore[union-attr]
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.TraditionalOpenSSL,
            encryption_algorithm=serialization.NoEncryption(),
        )
    )
    return cert, key, folder / "upstream-ca-cert.pem"


# --- the proxies ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit(f"school_mix: a proxy exited at start; its log {log}:\n"
                             + log.read_text(errors="replace")[-2000:])  # fmt: skip
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"school_mix: nothing listens on {port}; see {log}")


def in_namespace(hosts_file: Path, command: list[str]) -> list[str]:
    """`command` in a private mount namespace whose /etc/hosts is `hosts_file` (the mix's names
    resolve to loopback for that process only; the machine's /etc/hosts is untouched). The
    process keeps its pid (sh execs it), so /proc/<pid>/stat is the proxy's own."""
    script = 'mount --bind "$0" /etc/hosts && exec "$@"'
    return ["unshare", "--mount", "--", "sh", "-c", script, str(hosts_file), *command]


def start(command: list[str], core: int | None, log: Path) -> subprocess.Popen[bytes]:
    def pin() -> None:  # before exec, so every thread the proxy starts is on that core too
        if core is not None:
            os.sched_setaffinity(0, {core})

    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, preexec_fn=pin)  # noqa: PLW1509


def clausewarden_command(port: int, tmp: Path, name: str, upstream_ca: Path) -> list[str]:
    return [
        CLAUSEWARDEN, "proxy", "--listen-host", "127.0.0.1", "--listen-port", str(port),
        "--config", str(ROOT / "config"), "--data-dir", str(tmp / name),
        "--confdir", str(tmp / "mitmproxy"),
        "--set", f"clausewarden_now={WORKING_TIME}",
        "--set", f"ssl_verify_upstream_trusted_ca={upstream_ca}",
    ]  # fmt: skip


def bare_command(port: int, tmp: Path, upstream_ca: Path) -> list[str]:
    """mitmdump without ClauseWarden's addon, decrypting the same hosts (the same allow_hosts
    pattern, from the same bundle): what mitmproxy itself costs for the catalogue's share."""
    from policy.bundle import compile_bundle
    from policy.configdir import load_config_dir
    from proxy_addon.intercept import allow_hosts_pattern

    pattern = allow_hosts_pattern(compile_bundle(load_config_dir(ROOT / "config")))
    return [
        str(BIN / "mitmdump"), "--listen-host", "127.0.0.1", "--listen-port", str(port),
        "--set", f"confdir={tmp / 'mitmproxy'}", "--set", "connection_strategy=lazy",
        "--set", "flow_detail=0", "--set", "termlog_verbosity=warn",
        "--set", f"allow_hosts={pattern}",
        "--set", f"ssl_verify_upstream_trusted_ca={upstream_ca}",
    ]  # fmt: skip


def e2guardian_config(folder: Path, port: int, spare_port: int) -> Path:
    """The Debian package's /etc/e2guardian, changed only to listen on loopback at `port` (its
    transparent-https listener, unused here, on `spare_port`), stay in the foreground, and write
    its pid and access log in `folder`."""
    folder.mkdir(mode=0o755)
    shutil.copy("/etc/e2guardian/e2guardianf1.conf", folder / "e2guardianf1.conf")
    changes = {
        "filterip =": "filterip = 127.0.0.1",
        "filterports =": f"filterports = {port}",
        "transparenthttpsport =": f"transparenthttpsport = {spare_port}",
        "nodaemon =": "nodaemon = on",
        "#loglocation =": f"loglocation = '{folder}/access.log'",
        "#pidfilename =": f"pidfilename = '{folder}/e2guardian.pid'",
    }
    lines = []
    for line in Path("/etc/e2guardian/e2guardian.conf").read_text().splitlines():
        for start_, new in changes.items():
            if line.startswith(start_):
                line = new
        lines.append(line)
    conf = folder / "e2guardian.conf"
    conf.write_text("\n".join(lines) + "\n")
    try:
        shutil.chown(folder, "e2guardian", "e2guardian")  # it writes its log as that user
    except (LookupError, PermissionError):
        folder.chmod(0o777)
    return conf


def tree_cpu(pid: int) -> float:
    """utime+stime+cutime+cstime of `pid` and of its live descendants, in seconds."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(entry.name)
        parents[child] = int(fields[1])
        times[child] = sum(int(x) for x in fields[11:15]) / TICK
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += times.get(p, 0.0)
        todo += [c for c, parent in parents.items() if parent == p]
    return total


def pac_routes(pac_files: dict[str, Path], hosts: list[str], tmp: Path) -> dict[str, list[str]]:
    """Each PAC file's FindProxyForURL for each host, evaluated by node as a browser would."""
    script = tmp / "pac_eval.js"
    script.write_text(
        "const fs = require('fs');\n"
        "function isPlainHostName(h) { return h.indexOf('.') < 0; }\n"
        "const [pac, hosts] = [fs.readFileSync(process.argv[2], 'utf8'),"
        " JSON.parse(fs.readFileSync(process.argv[3], 'utf8'))];\n"
        "const find = new Function('isPlainHostName', pac + '\\nreturn FindProxyForURL;')"
        "(isPlainHostName);\n"
        "console.log(JSON.stringify(hosts.map(h => find('https://' + h + '/', h))));\n"
    )
    (tmp / "hosts.json").write_text(json.dumps(hosts))
    routes = {}
    for name, pac in pac_files.items():
        out = subprocess.run(
            ["node", str(script), str(pac), str(tmp / "hosts.json")],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        routes[name] = json.loads(out.stdout)
    return routes


# --- the load ---------------------------------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[str, bool]:
    """(status, and "upstream" if the upstream answered; whether the connection closes after)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    answer = f"{status} {'upstream' if b'x-upstream: 1' in head.lower() else 'proxy'}"
    length, chunked, close = None, False, head.startswith(b"HTTP/1.0")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection":
            close = value == b"close"
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    elif status not in (204, 304):
        await reader.read()
        close = True
    return answer, close


class Client:
    def __init__(self, ports: dict[str, int], context: ssl.SSLContext) -> None:
        self.ports = ports  # "http", "https": the upstream's
        self.context = context

    async def connect(
        self, proxy: int | None, host: str, https: bool, source: str
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        port = self.ports["https" if https else "http"]
        local = (source, 0)
        if proxy is None:
            return await asyncio.open_connection(
                "127.0.0.1", port, local_addr=local,
                ssl=self.context if https else None, server_hostname=host if https else None,
            )  # fmt: skip
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy, local_addr=local)
        if https:
            writer.write(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            if head[9:12] != b"200":
                raise ConnectionError(f"CONNECT answered {head[9:12].decode()}")
            await writer.start_tls(self.context, server_hostname=host)
        return reader, writer

    def request(self, visit: Visit, kind: str, n: int, absolute: bool) -> bytes:
        port = self.ports["https" if visit.https else "http"]
        authority = f"{visit.host}:{port}"
        path = PATHS[kind] + (str(n) if kind != "nav" else "")
        target = f"http://{authority}{path}" if absolute else path
        headers = {"Host": authority, **KIND_HEADERS[kind], **BASE_HEADERS}
        lines = [f"GET {target} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def visit(
        self, visit: Visit, proxy: int | None, source: str, result: Result, serial: int
    ) -> None:
        reader = writer = None
        started = time.perf_counter()  # a request on a new connection includes its opening
        try:
            for i, kind in enumerate(visit.kinds):
                if writer is None:
                    reader, writer = await self.connect(proxy, visit.host, visit.https, source)
                assert reader is not None
                absolute = proxy is not None and not visit.https
                writer.write(self.request(visit, kind, serial * 64 + i, absolute))
                status, close = await read_response(reader)
                now = time.perf_counter()
                result.latencies.append(((now - started) * 1000, visit.catalogue))
                key = f"{'catalogue' if visit.catalogue else 'other'} {kind} {status}"
                result.statuses[key] = result.statuses.get(key, 0) + 1
                started = now
                if close:
                    writer.close()
                    reader = writer = None
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, ValueError) as e:
            name = f"{'catalogue' if visit.catalogue else 'other'}: {type(e).__name__} {e}"[:120]
            result.errors[name] = result.errors.get(name, 0) + 1
        finally:
            if writer is not None:
                writer.close()


async def run_slice(
    client: Client,
    visits: list[Visit],
    route: dict[str, int | None],
    result: Result,
    concurrency: int,
    rate: float,
    first_serial: int,
    devices: int,
) -> None:
    """The visits started on a schedule, about `rate` requests a second in all, each by the next
    free one of `concurrency` clients (late when all are busy), from one of `devices` addresses
    (the same for a visit in every deployment)."""
    starts, sent = [], 0
    for v in visits:
        starts.append(sent / rate)
        sent += len(v.kinds)
    t0 = time.perf_counter()
    queue = iter(range(len(visits)))

    async def one() -> None:
        for i in queue:
            wait = t0 + starts[i] - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            v = visits[i]
            await asyncio.wait_for(
                client.visit(
                    v, route[v.host], device(first_serial + i, devices), result, first_serial + i
                ),
                60,
            )

    await asyncio.gather(*(one() for _ in range(concurrency)))


def device(serial: int, devices: int) -> str:
    return f"127.0.{1 + serial % devices // 250}.{1 + serial % devices % 250}"


def pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the run ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=6000, help="requests in the mix")
    parser.add_argument("--rate", type=float, default=200, help="requests/s sent (all clients)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections at once, at most")
    parser.add_argument("--devices", type=int, default=50, help="client addresses (staff devices)")
    parser.add_argument("--slices", type=int, default=6, help="interleaved slices of the mix")
    parser.add_argument("--catalogue", type=float, default=0.10, help="share to the catalogue")
    parser.add_argument("--plain", type=float, default=0.05, help="share of plain http visits")
    parser.add_argument(
        "--per-connection", type=float, default=5.0, help="mean requests a connection carries"
    )
    parser.add_argument("--body", type=int, default=8192, help="response body bytes")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--bare",
        action="store_true",
        help="also mitmdump without the addon behind the same PAC file (mitmproxy's own share)",
    )
    args = parser.parse_args()
    for tool in ("unshare", "node", "e2guardian"):
        if shutil.which(tool) is None:
            hint = "apt-get install -y e2guardian" if tool == "e2guardian" else f"install {tool}"
            raise SystemExit(f"school_mix: {tool} is not installed here; {hint}")
    if os.geteuid() != 0:
        raise SystemExit("school_mix: run it as root (private /etc/hosts per proxy: unshare)")

    rng = random.Random(args.seed)
    visits = make_mix(args.requests, rng, args.catalogue, args.plain, args.per_connection)
    warmup = make_mix(max(200, args.requests // 20), random.Random(args.seed + 1),
                      args.catalogue, args.plain, args.per_connection)  # fmt: skip
    warmup += [Visit(h, True, True, ("img",)) for h, _, _ in CATALOGUE]
    hosts = sorted({v.host for v in visits + warmup})

    tmp = Path(tempfile.mkdtemp(prefix="cw-school-mix-"))
    tmp.chmod(0o755)
    cert, key, upstream_ca = upstream_certificate(tmp, hosts)
    hosts_file = tmp / "hosts"
    hosts_file.write_text("127.0.0.1 localhost\n" + "".join(f"127.0.0.1 {h}\n" for h in hosts))
    hosts_file.chmod(0o644)
    up_http, up_https = free_port(), free_port()
    upstream = multiprocessing.Process(
        target=_upstream_main,
        args=(up_http, up_https, str(cert), str(key), args.body),
        daemon=True,
    )
    cores = sorted(os.sched_getaffinity(0))
    proxy_core = cores[-1] if len(cores) >= 2 else None
    if proxy_core is not None:  # the load generator and the upstream keep off the proxies' core
        os.sched_setaffinity(0, set(cores) - {proxy_core})
    upstream.start()

    p_pac, p_forced, p_e2g, p_bare = free_port(), free_port(), free_port(), free_port()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, port in (("cw-pac", p_pac), ("cw-forced", p_forced)):
            log = tmp / f"{name}.log"
            command = in_namespace(hosts_file, clausewarden_command(port, tmp, name, upstream_ca))
            processes[name] = start(command, proxy_core, log)
            wait_port(port, processes[name], log)  # one after the other: they share the CA
        if args.bare:
            log = tmp / "bare.log"
            command = in_namespace(hosts_file, bare_command(p_bare, tmp, upstream_ca))
            processes["bare"] = start(command, proxy_core, log)
            wait_port(p_bare, processes["bare"], log)
        e2_conf = e2guardian_config(tmp / "e2guardian", p_e2g, free_port())
        log = tmp / "e2guardian.log"
        command = in_namespace(hosts_file, ["e2guardian", "-N", "-c", str(e2_conf)])
        processes["e2g"] = start(command, proxy_core, log)
        wait_port(p_e2g, processes["e2g"], log)
        for port in (up_http, up_https):
            socket.create_connection(("127.0.0.1", port), 5).close()

        pac_files = {}
        for name, extra in (("pac", []), ("all", ["--all"])):
            pac_files[name] = tmp / f"{name}.pac"
            subprocess.run(
                [CLAUSEWARDEN, "pac", "--proxy", f"127.0.0.1:{p_pac}", "--config",
                 str(ROOT / "config"), "-o", str(pac_files[name]), *extra],
                check=True, capture_output=True,
            )  # fmt: skip
        decided = pac_routes(pac_files, hosts, tmp)
        catalogue_hosts = {h for h, _, _ in CATALOGUE}
        for host, decision in zip(hosts, decided["pac"], strict=True):
            if (decision != "DIRECT") != (host in catalogue_hosts):
                raise SystemExit(f"school_mix: the PAC file says {decision} for {host}")
        routes: dict[str, dict[str, int | None]] = {
            "direct": dict.fromkeys(hosts),
            "cw-pac": {h: p_pac if d != "DIRECT" else None
                       for h, d in zip(hosts, decided["pac"], strict=True)},
            "cw-forced": {h: p_forced if d != "DIRECT" else None
                          for h, d in zip(hosts, decided["all"], strict=True)},
            "e2g": dict.fromkeys(hosts, p_e2g),
        }  # fmt: skip
        if args.bare:
            routes["bare"] = {h: p_bare if r else None for h, r in routes["cw-pac"].items()}
        labels = {
            "direct": "direct (no proxy)",
            "cw-pac": "ClauseWarden, PAC",
            "cw-forced": "ClauseWarden, forced",
            "e2g": "e2guardian, forced",
            "bare": "mitmdump alone, PAC",
        }
        pids = {"cw-pac": processes["cw-pac"].pid, "cw-forced": processes["cw-forced"].pid,
                "e2g": processes["e2g"].pid}  # fmt: skip
        if args.bare:
            pids["bare"] = processes["bare"].pid

        context = ssl.create_default_context(cafile=str(upstream_ca))
        context.load_verify_locations(str(tmp / "mitmproxy" / "mitmproxy-ca-cert.pem"))
        client = Client({"http": up_http, "https": up_https}, context)

        print_configuration(args, visits, hosts, catalogue_hosts, proxy_core)
        for mode in routes:  # warm up: certificates generated, code paths loaded
            asyncio.run(run_slice(client, warmup, routes[mode], Result(), args.concurrency,
                                  args.rate * 2, 10**7, args.devices))  # fmt: skip

        idle = {mode: tree_cpu(pid) for mode, pid in pids.items()}
        time.sleep(3)
        idle = {mode: (tree_cpu(pid) - idle[mode]) / 3 * 1000 for mode, pid in pids.items()}
        print("  idle CPU over 3 s: " + ", ".join(
            f"{labels[m]} {ms:.1f} ms/s" for m, ms in idle.items()))  # fmt: skip
        results = {mode: Result() for mode in routes}
        modes = list(routes)
        size = math.ceil(len(visits) / args.slices)
        started = time.perf_counter()
        for s in range(args.slices):
            part = visits[s * size : (s + 1) * size]
            order = modes[s % len(modes) :] + modes[: s % len(modes)]
            for mode in order:
                pid = pids.get(mode)
                before = tree_cpu(pid) if pid else 0.0
                t0, first = time.perf_counter(), len(results[mode].latencies)
                load = run_slice(client, part, routes[mode], results[mode],
                                 args.concurrency, args.rate, s * size, args.devices)  # fmt: skip
                asyncio.run(load)
                results[mode].seconds += time.perf_counter() - t0
                used = tree_cpu(pid) - before if pid else 0.0
                results[mode].cpu += used
                results[mode].slice_cpu.append(used)
                mine = [ms for ms, _ in results[mode].latencies[first:]]
                results[mode].slice_p99.append(pct(mine, 0.99))
        report(results, labels, visits, args, time.perf_counter() - started)
        access = tmp / "e2guardian" / "access.log"
        lines = sum(1 for _ in access.open("rb")) if access.exists() else 0
        print(f"\ne2guardian logged {lines} lines in its access log (one per request or tunnel)")
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        upstream.terminate()
        upstream.join()
        shutil.rmtree(tmp, ignore_errors=True)


def print_configuration(
    args: argparse.Namespace,
    visits: list[Visit],
    hosts: list[str],
    catalogue_hosts: set[str],
    core: int | None,
) -> None:
    from mitmproxy.version import VERSION

    requests = sum(len(v.kinds) for v in visits)
    cat = sum(len(v.kinds) for v in visits if v.catalogue)
    tls = sum(len(v.kinds) for v in visits if v.https)
    navs = sum(1 for v in visits if v.catalogue and v.kinds[0] == "nav")
    package = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "e2guardian"],
                             capture_output=True, text=True).stdout or "?"  # fmt: skip
    print("School mix, configuration")
    print(
        f"  {requests} requests in {len(visits)} connections ({requests / len(visits):.1f} "
        f"requests a connection; {len(visits) / requests:.0%} of requests open a new one)"
    )
    print(
        f"  {cat / requests:.1%} to the catalogue ({len(catalogue_hosts)} hosts: "
        f"{', '.join(sorted(catalogue_hosts))}), of which {navs} navigations"
    )
    print(
        f"  {tls / requests:.1%} HTTPS; {len(hosts) - len(catalogue_hosts)} other hosts "
        f"(Zipf); response bodies {args.body} bytes; seed {args.seed}"
    )
    print(
        f"  {args.devices} staff devices (addresses in the staff group), at most "
        f"{args.concurrency} connections at once, {args.rate:.0f} requests/s scheduled; "
        f"{args.slices} interleaved slices"
    )
    print(
        f"  proxies pinned to core {core}; load generator and upstream on the other cores"
        if core is not None
        else "  one core: proxies, load and upstream share it (noisy)"
    )
    print(
        f"  ClauseWarden: `clausewarden proxy` (mitmproxy {VERSION}), config/ of the checkout, "
        f"clausewarden_now={WORKING_TIME} (working time: navigations are warned); upstream "
        "TLS verified against the upstream's CA; PAC from `clausewarden pac` (and --all), "
        "evaluated by node"
    )
    print(
        f"  e2guardian {package} (Debian package): /etc/e2guardian as shipped, changed only "
        "in filterip, filterports, transparenthttpsport, nodaemon, loglocation, pidfilename; "
        "no SSL MITM (enablessl = off, the default), default lists, access log on"
    )
    print(
        "  every proxy resolves the mix's hosts to 127.0.0.1 from its own /etc/hosts "
        "(private mount namespace)"
    )
    sys.stdout.flush()


def report(
    results: dict[str, Result],
    labels: dict[str, str],
    visits: list[Visit],
    args: argparse.Namespace,
    wall: float,
) -> None:
    requests = sum(len(v.kinds) for v in visits)
    seen = {
        "direct": 0,
        "cw-pac": sum(len(v.kinds) for v in visits if v.catalogue),
        "bare": sum(len(v.kinds) for v in visits if v.catalogue),
        "cw-forced": requests,
        "e2g": requests,
    }
    direct = results["direct"]
    d_all = [ms for ms, _ in direct.latencies]
    d_cat = [ms for ms, c in direct.latencies if c]
    e2g = results["e2g"]
    e2g_cpu = e2g.cpu / requests * 1000 * 1000  # ms per 1,000 requests
    e2g_p99 = pct([ms for ms, _ in e2g.latencies], 0.99) - pct(d_all, 0.99)
    e2g_p99_cat = pct([ms for ms, c in e2g.latencies if c], 0.99) - pct(d_cat, 0.99)
    print(
        f"\nResults ({wall:.0f} s of load; direct: p50 {pct(d_all, 0.5):.2f} ms, p99 "
        f"{pct(d_all, 0.99):.2f} ms a request, a new connection's opening included)"
    )
    print(f"{'deployment':<22}{'proxy sees':>11}{'CPU ms/1000 req':>17}{'vs e2g':>8}"
          f"{'p50 added':>11}{'p99 added':>11}{'vs e2g':>8}{'catalogue p99 added':>21}"
          f"{'errors':>8}")  # fmt: skip
    for mode, r in results.items():
        lat = [ms for ms, _ in r.latencies]
        cat = [ms for ms, c in r.latencies if c]
        p50 = pct(lat, 0.5) - pct(d_all, 0.5)
        p99 = pct(lat, 0.99) - pct(d_all, 0.99)
        p99_cat = pct(cat, 0.99) - pct(d_cat, 0.99)
        errors = sum(r.errors.values())
        if mode == "direct":
            print(f"{labels[mode]:<22}{'0%':>11}{'-':>17}{'':>8}{'-':>11}{'-':>11}{'':>8}"
                  f"{'-':>21}{errors:>8}")  # fmt: skip
            continue
        cpu = r.cpu / requests * 1e6
        print(
            f"{labels[mode]:<22}{seen[mode] / requests:>11.0%}{cpu:>17.0f}"
            f"{cpu / e2g_cpu:>8.2f}{p50:>11.2f}{p99:>11.2f}{ratio(p99, e2g_p99):>8}"
            f"{p99_cat:>12.2f} ({ratio(p99_cat, e2g_p99_cat)})"
            f"{errors:>8}"
        )
    print(
        "  (added: a deployment's percentile minus direct's, over the same requests; vs e2g: "
        "ClauseWarden / e2guardian)"
    )
    added = {
        mode: statistics.median(a - d for a, d in zip(r.slice_p99, direct.slice_p99, strict=True))
        for mode, r in results.items()
    }
    print(
        "  p99 added, median over the slices (each slice's p99 minus direct's in that slice: "
        "less moved by one slice the machine's other work disturbed): "
        + ", ".join(
            f"{labels[m]} {added[m]:.2f} ms ({ratio(added[m], added['e2g'])})"
            for m in results
            if m != "direct"
        )
    )
    for mode in ("cw-pac", "cw-forced"):
        ratios = [
            a / b for a, b in zip(results[mode].slice_cpu, e2g.slice_cpu, strict=True) if b > 0
        ]
        if ratios:
            print(
                f"  {labels[mode]}: CPU vs e2guardian slice by slice: median "
                f"{statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})"
            )

    pac, forced = results["cw-pac"].cpu, results["cw-forced"].cpu
    cat_visits = [v for v in visits if v.catalogue]
    cat_requests = sum(len(v.kinds) for v in cat_visits)
    cdn = sum(1 for v in cat_visits if v.kinds[0] == "img")
    per_decrypted = pac / max(len(cat_visits), 1) * 1000
    print("\nWhat the PAC deployment costs, and what it would take to be below e2guardian")
    print(
        f"  the catalogue's share: {cat_requests} requests in {len(cat_visits)} connections "
        f"({cdn} of them to its CDNs' images), decrypted: {pac * 1000:.0f} ms of CPU, "
        f"{per_decrypted:.1f} ms a connection with its requests; e2guardian's whole mix: "
        f"{e2g.cpu * 1000:.0f} ms"
    )
    if "bare" in results:
        bare = results["bare"].cpu
        print(
            f"  mitmdump alone, decrypting the same connections: {bare * 1000:.0f} ms, so "
            f"ClauseWarden's addon adds {(pac - bare) / max(bare, 1e-9):+.0%} to mitmproxy's "
            "own decrypting and parsing"
        )
    verdict = "below" if pac < e2g.cpu else "above"
    print(
        f"  {verdict} e2guardian ({pac / max(e2g.cpu, 1e-9):.2f}x): "
        + (
            "met"
            if pac < e2g.cpu
            else f"the catalogue's share must cost {pac / max(e2g.cpu, 1e-9):.1f}x less, "
            f"at most {e2g.cpu / max(len(cat_visits), 1) * 1000:.1f} ms a decrypted connection"
        )
    )
    other_visits = [v for v in visits if not v.catalogue]
    tunnels = sum(1 for v in other_visits if v.https)
    other_requests = sum(len(v.kinds) for v in other_visits)
    per_tunnel = max(forced - pac, 0) / max(tunnels, 1) * 1000
    print("\nWhat the forced deployment would take to be below e2guardian")
    print(
        f"  the non-catalogue traffic ({other_requests} requests, {tunnels} tunnelled "
        f"connections) costs ClauseWarden {max(forced - pac, 0) * 1000:.0f} ms of CPU "
        f"(forced minus PAC), {per_tunnel:.2f} ms a tunnelled connection with its requests: "
        f"a decrypted connection costs {per_decrypted / max(per_tunnel, 1e-9):.1f}x a tunnelled one"
    )
    budget = e2g.cpu - pac
    if budget <= 0:
        print(
            f"  e2guardian's whole mix ({e2g.cpu * 1000:.0f} ms) costs less than ClauseWarden's "
            f"catalogue share alone ({pac * 1000:.0f} ms): out of reach whatever the tunnels "
            "cost, until the decrypted share is cheaper (above); then the tunnels must cost "
            "what e2guardian's do: a front in C that passes only the catalogue's hosts to "
            "mitmproxy (an SNI router, or Squid with ACLs from the bundle: ~0.4 ms a connection "
            "in BASELINES.md)"
        )
    else:
        need = (forced - pac) / budget
        print(
            f"  to be below e2guardian ({e2g.cpu * 1000:.0f} ms) the non-catalogue share must "
            f"cost at most {budget * 1000:.0f} ms: {need:.1f}x less than mitmproxy's tunnels "
            f"today, {budget / max(tunnels, 1) * 1000:.2f} ms a connection: a front in C that "
            "passes only the catalogue's hosts to mitmproxy (an SNI router, or Squid with ACLs "
            "from the bundle: ~0.4 ms a connection in BASELINES.md)"
        )
    for mode, r in results.items():
        if r.errors:
            print(f"\n{labels[mode]} errors:")
            for name, n in sorted(r.errors.items(), key=lambda x: -x[1])[:5]:
                print(f"  {n:>5}  {name}")
    print("\nAnswers the client got (catalogue/other, request kind, status: count)")
    for mode, r in results.items():
        shown = ", ".join(f"{k}: {n}" for k, n in sorted(r.statuses.items()))
        print(f"  {labels[mode]}: {shown}")
    rates = ", ".join(
        f"{labels[m]} {sum(len(v.kinds) for v in visits) / r.seconds:.0f}"
        for m, r in results.items()
    )
    print(f"  requests/s achieved (target {args.rate:.0f}): {rates}")


def ratio(a: float, b: float) -> str:
    if math.isnan(a) or math.isnan(b) or b <= 0:
        return "n/a"
    return f"{a / b:.2f}"


if __name__ == "__main__":
    main()
