"""What the ClauseWarden addon costs mitmproxy, measured side by side in one run.

Run: .venv/bin/python bench/proxy_overhead.py [--seconds 1] [--rounds 8] [--memory 10000,50000]
Prints, each time for bare mitmdump (A) and mitmdump with the addon (B), runs interleaved A/B:
  1. non-social plain HTTP keep-alive to a local upstream at c=1, 8, 32: requests/s (ratio B/A),
     p50 and p99 latency;
  2. non-social HTTPS: the proxy's CPU per new connection when tunnelled (B: not a catalogue
     host) against the same connection decrypted (A decrypts everything);
  3. warned navigations/s answered by the addon with no upstream, p50/p99 at c=1 and c=8;
  4. durable events/s through the outbox (one transaction each, as the proxy writes them);
  5. the addon proxy's RSS after N requests with many distinct hosts and client addresses.
"""

import argparse
import asyncio
import multiprocessing
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the checkout, for tests.support
MITMDUMP = str(Path(sys.executable).with_name("mitmdump"))
ADDON = ROOT / "proxy_addon" / "addon.py"
MAP = ROOT / "tests" / "support" / "map_upstream.py"
BODY = b"x" * 512
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)
TICK = os.sysconf("SC_CLK_TCK")


# --- the local upstream (its own process), keep-alive, plain and TLS ---------------------------


async def _serve_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


def _upstream_main(port: int, tls_port: int, cert: str, key: str) -> None:
    async def main() -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        await asyncio.start_server(_serve_conn, "127.0.0.1", port, backlog=512)
        await asyncio.start_server(_serve_conn, "127.0.0.1", tls_port, ssl=context, backlog=512)
        await asyncio.Event().wait()

    asyncio.run(main())


ACCEPT_HTML = {"Accept": "text/html", "User-Agent": "bench"}
NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}
IMAGE = {"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}


def request_bytes(url: str, host: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {url} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def domain(i: int) -> str:
    """One host in five is a social media subdomain (decided), the rest are distinct sites."""
    return "facebook.com" if i % 5 == 0 else f"site{i % 997}.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int) -> None:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing on {port}")


def start_mitmdump(
    port: int, confdir: Path, addon: bool, data: Path, map_to: int
) -> subprocess.Popen[bytes]:
    command = [
        MITMDUMP, "--listen-host", "127.0.0.1", "--listen-port", str(port),
        "--set", f"confdir={confdir}", "--set", "flow_detail=0",
        "--set", "termlog_verbosity=error", "--set", "connection_strategy=lazy",
        "--set", "ssl_insecure=true",
    ]  # fmt: skip
    if addon:
        command += ["-s", str(ADDON), "--set", f"clausewarden_data_dir={data}",
                    "--set", "clausewarden_now=2026-11-25T10:00:00+00:00"]  # fmt: skip
    command += ["-s", str(MAP), "--set", f"map_upstream=127.0.0.1:{map_to}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return process


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- the load ---------------------------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(head[9:12])


async def load(
    port: int, requests: list[bytes] | bytes, seconds: float, concurrency: int, sources: int = 1
) -> tuple[float, list[float]]:
    """Keep-alive clients sending `requests` round robin for `seconds`; (req/s, latencies in ms)."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    reqs = [requests] if isinstance(requests, bytes) else requests

    async def client(i: int) -> None:
        local = (f"127.0.0.{1 + i % sources}", 0) if sources > 1 else None
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
        n = i
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(reqs[n % len(reqs)])
            await _read_response(reader)
            latencies.append((time.perf_counter() - start) * 1000)
            n += concurrency
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return len(latencies) / (time.perf_counter() - start), latencies


async def count_load(port: int, requests: list[bytes], total: int, concurrency: int) -> None:
    """`total` requests from `concurrency` clients, each from its own 127.x.y.z address."""
    per = total // concurrency

    async def client(i: int) -> None:
        local = (f"127.0.{(i // 250) % 250}.{1 + i % 250}", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
        for k in range(per):
            writer.write(requests[(i * per + k) % len(requests)])
            await _read_response(reader)
        writer.close()

    await asyncio.gather(*(client(i) for i in range(concurrency)))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def new_tls_connections(
    port: int, host: str, target_port: int, n: int, ca: str, requests: int = 1
) -> None:
    context = ssl.create_default_context(cafile=ca)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    for _ in range(n):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"CONNECT {host}:{target_port} HTTP/1.1\r\nHost: {host}:{target_port}\r\n\r\n".encode()
        )
        await reader.readuntil(b"\r\n\r\n")
        await writer.start_tls(context, server_hostname=host)
        for _ in range(requests):
            writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            await _read_response(reader)
        writer.close()


def outbox_rate(folder: Path, n: int) -> float:
    from policy.event import Event
    from proxy_addon.outbox import Outbox

    outbox = Outbox(folder / "bench-outbox.sqlite3", max_pending=n + 1)
    base = dict(
        time="2026-11-25T10:00:00Z", sensor="proxy", device="0" * 32, platform="facebook",
        category="social_network", action="browse", outcome="warn", clauses=("7",),
        rule="social-working-time", working_time=True, device_group="staff-devices",
        account="unknown", school_account=None, policy_version="v1",
    )  # fmt: skip
    events = [Event(id=uuid.uuid4().hex, **base) for _ in range(n)]  # type: ignore[arg-type]
    start = time.perf_counter()
    for e in events:
        outbox.add(e, "2026-11-25", "tag")
    rate = n / (time.perf_counter() - start)
    outbox.close()
    return rate


def addon_hook_times(folder: Path, n: int) -> dict[str, list[float]]:
    """Time spent inside the addons' request hooks (in process, mitmproxy's test harness)."""
    return asyncio.run(_addon_hook_times(folder, n))


async def _addon_hook_times(folder: Path, n: int) -> dict[str, list[float]]:
    from mitmproxy.test import taddons, tflow

    from tests.support.addon_chain import AddonChain  # every addon's hook, in mitmdump's order

    addon = AddonChain()
    times: dict[str, list[float]] = {"warned navigation": [], "non-social request": []}
    with taddons.context(addon) as tctx:
        tctx.configure(
            addon,
            clausewarden_data_dir=str(folder / "hook"),
            clausewarden_now="2026-11-25T10:00:00+00:00",
        )
        for kind, url in (
            ("warned navigation", "https://www.facebook.com/"),
            ("non-social request", "https://www.bbc.co.uk/news"),
        ):
            for _ in range(n):
                f = tflow.tflow()
                f.request.url = url
                f.request.headers.update(NAVIGATE)
                start = time.perf_counter()
                await addon.request(f)
                times[kind].append((time.perf_counter() - start) * 1000)
        await addon.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one A or B slice")
    parser.add_argument("--rounds", type=int, default=8, help="A/B slice pairs per concurrency")
    parser.add_argument("--tls", type=int, default=150, help="new TLS connections per side")
    parser.add_argument(
        "--control", action="store_true", help="B without the addon too (shows the noise floor)"
    )
    parser.add_argument(
        "--memory", default="10000,50000", help="request counts for RSS (200000 takes ~6 min)"
    )
    args = parser.parse_args()

    from tests.support.upstream import tls_context_for_localhost

    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-"))
    tls_context_for_localhost(tmp)  # writes localhost.pem / localhost-key.pem
    up, up_tls = free_port(), free_port()
    upstream = multiprocessing.Process(
        target=_upstream_main,
        args=(up, up_tls, str(tmp / "localhost.pem"), str(tmp / "localhost-key.pem")),
        daemon=True,
    )
    upstream.start()
    wait_port(up)
    pa, pb = free_port(), free_port()
    label = "bare again, a control run" if args.control else "with the ClauseWarden addon"
    proc_a = start_mitmdump(pa, tmp / "conf", False, tmp / "a", up)
    proc_b = start_mitmdump(pb, tmp / "conf", not args.control, tmp / "b", up)
    if len(os.sched_getaffinity(0)) >= 2:
        # Both proxies share the last core; the load generator and upstream get the others.
        last = max(os.sched_getaffinity(0))
        for pid in (proc_a.pid, proc_b.pid):
            os.sched_setaffinity(pid, {last})
        os.sched_setaffinity(0, os.sched_getaffinity(0) - {last})
        os.sched_setaffinity(upstream.pid or 0, os.sched_getaffinity(0))
    ca = str(tmp / "conf" / "mitmproxy-ca-cert.pem")
    plain = request_bytes(f"http://127.0.0.1:{up}/lesson/plan", f"127.0.0.1:{up}", ACCEPT_HTML)
    try:
        asyncio.run(load(pa, plain, 0.5, 4))  # warm up both
        asyncio.run(load(pb, plain, 0.5, 4))
        print(
            f"mitmdump bare (A) vs {label} (B), both on one core; "
            f"{args.rounds} interleaved rounds of {args.seconds}s"
        )
        print("\n1. Non-social plain HTTP, keep-alive, local upstream")
        print(
            f"{'c':>3} {'A req/s':>9} {'B req/s':>9} {'B/A':>6} {'A p50':>7} {'B p50':>7} "
            f"{'A p99':>7} {'B p99':>7}  (ms)"
        )
        cpu = {"A": 0.0, "B": 0.0}
        count = {"A": 0, "B": 0}
        pids = {pa: ("A", proc_a.pid), pb: ("B", proc_b.pid)}
        for c in (1, 8, 32):
            ra: list[float] = []
            rb: list[float] = []
            la: list[float] = []
            lb: list[float] = []
            ratios: list[float] = []
            for i in range(args.rounds):
                # Alternate which side goes first; pair each A slice with the B slice beside it.
                order = ((pa, ra, la), (pb, rb, lb)) if i % 2 == 0 else ((pb, rb, lb), (pa, ra, la))
                for port, rates, lats in order:
                    side, pid = pids[port]
                    before = cpu_seconds(pid)
                    r, lat = asyncio.run(load(port, plain, args.seconds, c))
                    cpu[side] += cpu_seconds(pid) - before
                    count[side] += len(lat)
                    rates.append(r)
                    lats += lat
                ratios.append(rb[-1] / ra[-1])
            a, b = statistics.mean(ra), statistics.mean(rb)
            print(
                f"{c:>3} {a:>9.0f} {b:>9.0f} {b / a:>6.2f} {pct(la, 0.5):>7.2f} "
                f"{pct(lb, 0.5):>7.2f} {pct(la, 0.99):>7.2f} {pct(lb, 0.99):>7.2f}   "
                f"median of paired B/A {statistics.median(ratios):.2f}"
            )
        per_a = cpu["A"] / count["A"] * 1e6
        per_b = cpu["B"] / count["B"] * 1e6
        print(
            f"    proxy CPU per request, all slices: A {per_a:.0f} us, B {per_b:.0f} us "
            f"(B/A {per_b / per_a:.2f}; requests/s per core A {1e6 / per_a:.0f}, "
            f"B {1e6 / per_b:.0f})"
        )

        print("\n2. Non-social HTTPS, proxy CPU per new connection (CONNECT + TLS + k GETs)")
        for k in (1, 10):
            per = {}
            for name, pid, port in (
                ("A decrypted", proc_a.pid, pa),
                ("B tunnelled", proc_b.pid, pb),
            ):
                before = cpu_seconds(pid)
                t0 = time.perf_counter()
                asyncio.run(new_tls_connections(port, "localhost", up_tls, args.tls, ca, k))
                wall = time.perf_counter() - t0
                per[name] = (cpu_seconds(pid) - before) / args.tls * 1000
                print(
                    f"   k={k:<2} {name}: {per[name]:.2f} ms CPU per connection "
                    f"({args.tls / wall:.0f} connections/s)"
                )
            ratio = per["A decrypted"] / max(per["B tunnelled"], 1e-3)
            print(f"   k={k:<2} tunnelled is {ratio:.1f}x cheaper")

        print("\n3. Warned navigations answered by the addon (no upstream)")
        nav = request_bytes("http://www.facebook.com/", "www.facebook.com", NAVIGATE)
        for c in (1, 8):
            rate, lat = asyncio.run(load(pb, nav, args.seconds, c))
            print(
                f"   c={c}: {rate:.0f} warning pages/s, p50 {pct(lat, 0.5):.2f} ms, "
                f"p99 {pct(lat, 0.99):.2f} ms (at the client, including the proxy's parsing)"
            )

        for kind, values in addon_hook_times(tmp, 2000).items():
            print(
                f"   inside the addon, {kind}: p50 {pct(values, 0.5):.3f} ms, "
                f"p99 {pct(values, 0.99):.3f} ms"
            )

        print("\n4. Durable events through the outbox (SQLite WAL, one transaction each)")
        print(f"   {outbox_rate(tmp, 20000):.0f} events/s")

        print("\n5. RSS of the addon proxy with many distinct hosts and client addresses")
        hosts = [
            request_bytes(f"http://h{i}.{domain(i)}/p", f"h{i}.{domain(i)}", IMAGE)
            for i in range(50_000)
        ]
        print(f"   start: {rss_mib(proc_b.pid):.0f} MiB")
        done = 0
        for total in (int(x) for x in args.memory.split(",")):
            t0 = time.perf_counter()
            step = total - done
            asyncio.run(count_load(pb, hosts[done % len(hosts) :] + hosts, step, 32))
            done = total
            print(
                f"   after {total} requests: {rss_mib(proc_b.pid):.0f} MiB "
                f"({step / (time.perf_counter() - t0):.0f} req/s in this step)"
            )
    finally:
        for p in (proc_a, proc_b):
            p.terminate()
            p.wait()
        upstream.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
