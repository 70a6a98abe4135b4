"""`clausewarden doctor`: checks a site and prints one line per check, with what to do when it
fails: the service (reachable, over TLS), the sensor token, the proxy, the PAC file (valid, sending
the catalogue's hosts to the proxy), whether this device trusts the school's CA (through the CA
page), the clock and time zone, free disk, the proxy's outbox backlog and the clients it refused
(devices in no device group). Exit 1 if a check
failed. A check whose option is not given is skipped, and says which option it needs."""

import argparse
import http.client
import json
import re
import shutil
import ssl
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from policy.pages_host import PAGES_HOST

DISK_WARN, DISK_FAIL = 1 << 30, 100 << 20
SKEW_WARN, SKEW_FAIL = 60.0, 3600.0
BACKLOG_WARN = 1000


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("doctor", help="check a site: one line per check", description=__doc__)
    parser.add_argument("--service", metavar="URL", help="the service's URL")
    parser.add_argument("--token-file", type=Path, help="a sensor's token file, to check it")
    parser.add_argument("--proxy", metavar="HOST:PORT", help="the proxy, as devices reach it")
    parser.add_argument("--pac", metavar="URL", help="the PAC URL devices use (URL/proxy.pac)")
    parser.add_argument("--data-dir", type=Path, help="the service's data folder (free disk)")
    parser.add_argument(
        "--proxy-data-dir", type=Path, help="the proxy's data folder (outbox backlog, free disk)"
    )
    parser.add_argument("--config", type=Path, help="configuration folder (the catalogue)")
    parser.set_defaults(run=run)


class Report:
    def __init__(self) -> None:
        self.failed = 0

    def line(self, state: str, name: str, text: str) -> None:
        self.failed += state == "FAIL"
        print(f"[{state:<4}] {name}: {text}", flush=True)


def _get(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> Any:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - checked above
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    return opener.open(request, timeout=timeout)


def run(args: argparse.Namespace) -> int:
    report = Report()
    service = args.service.rstrip("/") if args.service else None
    bundle: dict[str, Any] | None = None
    server_date: datetime | None = None
    if service is None:
        report.line("skip", "service", "give --service URL to check the service")
    else:
        server_date = check_service(report, service)
        bundle = check_token(report, service, args.token_file)
    if bundle is None:
        bundle = _local_bundle(args.config)
    check_proxy(report, args.proxy)
    check_pac(report, args.pac or (f"{service}/proxy.pac" if service else None), bundle, args.proxy)
    check_ca(report, args.proxy)
    check_clock(report, server_date, bundle)
    check_disk(report, [p for p in (args.data_dir, args.proxy_data_dir) if p is not None])
    check_outbox(report, args.proxy_data_dir)
    check_refused_clients(report, args.proxy_data_dir)
    return 1 if report.failed else 0


def _local_bundle(config: Path | None) -> dict[str, Any] | None:
    from policy.bundle import compile_bundle
    from policy.configdir import load_config_dir
    from policy.errors import ConfigError

    try:
        return compile_bundle(load_config_dir(config))
    except ConfigError:
        return None


def health_reason(exc: urllib.error.HTTPError) -> str:
    """Why /healthz failed, from its JSON body (" (writes failing since ...: disk full)")."""
    try:
        body = json.loads(exc.read(4096) or b"{}")
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    if body.get("why"):
        return f" (writes failing since {body.get('since', '?')}: {body['why']})"
    if body.get("database") not in (None, "answers"):
        return f" (the database does not answer: {body['database']})"
    return " (the database is not ready yet)" if body.get("status") == "error" else ""


def check_service(report: Report, service: str) -> datetime | None:
    parts = urlsplit(service)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        report.line("FAIL", "service", f"{service!r} is not a URL: give e.g. https://cw.school.lan")
        return None
    started = time.monotonic()
    try:
        with _get(f"{service}/healthz") as response:
            body = json.load(response)
            date = response.headers.get("Date")
    except urllib.error.HTTPError as exc:
        report.line("FAIL", "service", f"{service}/healthz answered {exc.code}"
                    f"{health_reason(exc)}: see the service's log (journalctl -u "
                    "clausewarden-service)")  # fmt: skip
        return None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        report.line("FAIL", "service", f"{service} cannot be reached ({reason}): is it running "
                    "(systemctl status clausewarden-service) and is the URL right?")  # fmt: skip
        return None
    took = (time.monotonic() - started) * 1000
    if body.get("status") != "ok":
        report.line("FAIL", "service", f"reachable but unhealthy: {body}; see its log")
    else:
        report.line("ok", "service", f"{service} answers ({took:.0f} ms)")
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme == "https":
        report.line("ok", "service TLS", "reached over https with a certificate this device trusts")
    elif local:
        report.line("ok", "service TLS", "plain http on loopback (only this machine reaches it)")
    else:
        report.line("warn", "service TLS", "plain http on the network: put TLS in front "
                    "(serve --tls-cert/--tls-key or nginx, docs/deploy.md)")  # fmt: skip
    try:
        return parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        return None


def check_token(report: Report, service: str, token_file: Path | None) -> dict[str, Any] | None:
    if token_file is None:
        report.line("skip", "sensor token", "give --token-file FILE to check a sensor's token")
        return None
    from clausewarden.token_file import TokenFileError, read_token_file

    try:
        token = read_token_file(token_file)
    except TokenFileError as exc:
        report.line("FAIL", "sensor token", str(exc))
        return None
    try:
        with _get(f"{service}/api/v1/bundle", {"Authorization": f"Bearer {token}"}) as response:
            bundle: dict[str, Any] = json.load(response)
    except urllib.error.HTTPError as exc:
        what = {401: "unknown to the service", 403: "revoked"}.get(
            exc.code, f"refused ({exc.code})"
        )
        report.line("FAIL", "sensor token", f"{what}: make a new one with `clausewarden sensor "
                    "add NAME` and put it in the sensor's token file")  # fmt: skip
        return None
    except (OSError, ValueError) as exc:
        report.line("FAIL", "sensor token", f"the bundle could not be fetched ({exc})")
        return None
    report.line("ok", "sensor token", f"valid: the service gave policy {bundle.get('version')}")
    return bundle


def _split(proxy: str) -> tuple[str, int] | None:
    match = re.fullmatch(r"\[?([^\]]+?)\]?:(\d{1,5})", proxy)
    return (match.group(1), int(match.group(2))) if match else None


def check_proxy(report: Report, proxy: str | None) -> None:
    if proxy is None:
        report.line("skip", "proxy", "give --proxy HOST:PORT to check the proxy")
        return
    address = _split(proxy)
    if address is None:
        report.line("FAIL", "proxy", f"{proxy!r} is not HOST:PORT, e.g. 10.0.0.5:8080")
        return
    try:
        with _get(f"http://{proxy}/proxy.pac") as response:
            ok = b"FindProxyForURL" in response.read()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        report.line("FAIL", "proxy", f"{proxy} cannot be reached ({reason}): is it running "
                    "(systemctl status clausewarden-proxy), listening on the network "
                    "(--listen-host) and open in the firewall?")  # fmt: skip
        return
    if ok:
        report.line("ok", "proxy", f"{proxy} answers as ClauseWarden's proxy")
    else:
        report.line("FAIL", "proxy", f"{proxy} answers, but not as ClauseWarden's proxy")


def pac_maps(text: str) -> tuple[str, set[str], set[str]] | None:
    """(the PROXY target, domains, exact hosts) of a PAC file made by policy.pac, or None."""
    target = re.search(r'^var P = ("[^"\n]*");$', text, re.M)
    domains = re.search(r"^var D = (\{.*\});$", text, re.M)
    hosts = re.search(r"^var H = (\{.*\});$", text, re.M)
    if not (target and domains and hosts and "function FindProxyForURL" in text):
        return None
    try:
        return (
            json.loads(target.group(1)),
            set(json.loads(domains.group(1))),
            set(json.loads(hosts.group(1))),
        )
    except ValueError:
        return None


def check_pac(
    report: Report, url: str | None, bundle: dict[str, Any] | None, proxy: str | None
) -> None:
    if url is None:
        report.line("skip", "PAC file", "give --service URL (or --pac URL) to check the PAC file")
        return
    try:
        with _get(url) as response:
            kind = response.headers.get("Content-Type", "")
            text = response.read().decode("utf-8", "replace")
    except (OSError, ValueError) as exc:
        report.line("FAIL", "PAC file", f"{url} cannot be fetched ({getattr(exc, 'reason', exc)})")
        return
    maps = pac_maps(text)
    if maps is None:
        report.line("FAIL", "PAC file", f"{url} is not a ClauseWarden PAC file: point devices "
                    "at the service's /proxy.pac")  # fmt: skip
        return
    target, domains, hosts = maps
    problems = []
    if not kind.startswith("application/x-ns-proxy-autoconfig"):
        problems.append(f"served as {kind or 'no type'} (some browsers need "
                        "application/x-ns-proxy-autoconfig)")  # fmt: skip
    if bundle is not None:
        wanted = {d for p in bundle["platforms"] for d in p["domains"]}
        missing = sorted(wanted - domains)
        if missing:
            problems.append(f"{len(missing)} catalogue domains missing (e.g. {missing[0]}): "
                            "the PAC file is older than the policy")  # fmt: skip
    if proxy is not None and target != f"PROXY {proxy}":
        problems.append(f"it sends devices to {target.removeprefix('PROXY ')}, not {proxy}: set "
                        f"proxy_address: {proxy} in settings.yaml")  # fmt: skip
    if problems:
        report.line("FAIL", "PAC file", "; ".join(problems))
    else:
        report.line("ok", "PAC file", f"{url}: {len(domains) + len(hosts)} hosts to {target}, "
                    "the rest DIRECT")  # fmt: skip


def check_ca(report: Report, proxy: str | None) -> None:
    address = _split(proxy) if proxy else None
    if address is None:
        report.line("skip", "CA trusted", "give --proxy HOST:PORT to check this device trusts "
                    "the school's CA")  # fmt: skip
        return
    context = ssl.create_default_context()  # this device's own trust store
    conn = http.client.HTTPSConnection(address[0], address[1], timeout=10, context=context)
    conn.set_tunnel(PAGES_HOST, 443)
    try:
        conn.request("GET", "/ca/trusted")
        status = conn.getresponse().status
    except ssl.SSLCertVerificationError:
        report.line("FAIL", "CA trusted", "this device does not trust the school's CA: install "
                    f"it from http://{PAGES_HOST}/ca (docs/devices.md)")  # fmt: skip
        return
    except (OSError, http.client.HTTPException) as exc:
        report.line("FAIL", "CA trusted", f"the CA page could not be reached through the proxy "
                    f"({exc})")  # fmt: skip
        return
    finally:
        conn.close()
    if status == 200:
        report.line(
            "ok", "CA trusted", f"this device trusts the school's CA (https://{PAGES_HOST})"
        )
    else:
        report.line("FAIL", "CA trusted", f"https://{PAGES_HOST}/ca/trusted answered {status}")


def check_clock(report: Report, server: datetime | None, bundle: dict[str, Any] | None) -> None:
    now = datetime.now(UTC)
    if server is not None:
        skew = (now - server).total_seconds()
        side = "ahead of" if skew > 0 else "behind"
        text = f"this device's clock is {abs(skew):.0f} s {side} the service's"
        if abs(skew) >= SKEW_FAIL:
            report.line("FAIL", "clock", f"{text}: events from a clock this far off are kept "
                        "back; set up NTP (timedatectl set-ntp true)")  # fmt: skip
        elif abs(skew) >= SKEW_WARN:
            report.line("warn", "clock", f"{text}: set up NTP (timedatectl set-ntp true)")
        else:
            report.line("ok", "clock", f"{text} (within {SKEW_WARN:.0f} s)")
    else:
        report.line("skip", "clock", "give --service URL to compare clocks with the service")
    if bundle is None:
        report.line("skip", "time zone", "no configuration to read the school's time zone from")
        return
    zone = bundle["schedule"]["time_zone"]
    local = now.astimezone(ZoneInfo(zone))
    report.line("ok", "time zone", f"the school's is {zone}: {local:%A %H:%M} there now "
                "(working time is reckoned in it, whatever this machine's zone)")  # fmt: skip


def check_disk(report: Report, folders: list[Path]) -> None:
    if not folders:
        report.line("skip", "free disk", "give --data-dir (and --proxy-data-dir) to check")
        return
    for folder in folders:
        probe = folder
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        free = shutil.disk_usage(probe).free
        text = f"{free / (1 << 30):.1f} GiB free for {folder}"
        if free < DISK_FAIL:
            report.line("FAIL", "free disk", f"{text}: free some space, or the database and the "
                        "outbox stop taking events")  # fmt: skip
        elif free < DISK_WARN:
            report.line("warn", "free disk", f"{text}: less than 1 GiB; free some space soon")
        else:
            report.line("ok", "free disk", text)


def check_outbox(report: Report, proxy_data: Path | None) -> None:
    if proxy_data is None:
        report.line("skip", "outbox", "give --proxy-data-dir to check the proxy's backlog")
        return
    from proxy_addon.outbox import Outbox
    from proxy_addon.paths import OUTBOX_FILE

    path = proxy_data / OUTBOX_FILE
    if not path.exists():
        report.line("ok", "outbox", f"no outbox at {path} yet (the proxy has recorded nothing)")
        return
    outbox = Outbox(path)
    try:
        status = outbox.status()
    finally:
        outbox.close()
    pending, dropped = status.get("outbox_pending", 0), status.get("outbox_dropped", 0)
    text = f"{pending} events waiting to be sent, {dropped} could not be kept"
    if dropped:
        report.line("FAIL", "outbox", f"{text}: the outbox was full; check the service is "
                    "reachable from the proxy and its token valid")  # fmt: skip
    elif pending >= BACKLOG_WARN:
        oldest = status.get("oldest_pending") or "?"
        report.line("warn", "outbox", f"{text} (oldest {oldest}): is the service reachable "
                    "from the proxy?")  # fmt: skip
    else:
        report.line("ok", "outbox", text)


def check_refused_clients(report: Report, proxy_data: Path | None) -> None:
    """Clients in no device group the proxy refused in its last days (counted by kind only)."""
    name = "refused clients"
    if proxy_data is None:
        report.line("skip", name, "give --proxy-data-dir to see clients the proxy refused")
        return
    from proxy_addon.paths import REFUSED_CLIENTS_FILE

    try:
        days = json.loads((proxy_data / REFUSED_CLIENTS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        days = {}
    except (OSError, ValueError) as exc:
        report.line("warn", name, f"{proxy_data / REFUSED_CLIENTS_FILE} cannot be read ({exc})")
        return
    kinds: dict[str, int] = {}
    for counts in days.values():
        for kind, count in counts.items():
            kinds[kind] = kinds.get(kind, 0) + int(count)
    if not kinds:
        report.line("ok", name, "the proxy refused no client in the last 7 days")
        return
    seen = ", ".join(f"{count} from {kind} addresses" for kind, count in sorted(kinds.items()))
    report.line("warn", name, f"the proxy refused clients in no device group in the last 7 "
                f"days ({seen}): if they are school devices (for example with global IPv6 "
                "addresses), add their networks to device_groups.yaml")  # fmt: skip
