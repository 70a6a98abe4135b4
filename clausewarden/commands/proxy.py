"""`clausewarden proxy`: runs mitmdump with the ClauseWarden addon (execs mitmdump)."""

import argparse
import os
import shutil
import sys
from pathlib import Path

from clausewarden.help_texts import CONFIG_HELP
from proxy_addon.paths import ADDON_SCRIPT, default_data_dir

ALLOW_PLAIN_HTTP_OPTION = "clausewarden_allow_plain_http"  # proxy_addon/service_client.py's

ADDON = ADDON_SCRIPT.resolve()


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "proxy",
        help="run the filtering proxy (mitmproxy with the ClauseWarden addon)",
        description="Run mitmproxy with the ClauseWarden addon. Only social media hosts (and "
        "header-injection hosts) are decrypted; everything else is an opaque tunnel.",
    )
    parser.add_argument("--listen-host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--listen-port", type=int, default=8080, help="port to listen on")
    parser.add_argument("--config", type=Path, help=CONFIG_HELP)
    parser.add_argument("--service-url", help="ClauseWarden service URL (bundle and events)")
    parser.add_argument("--sensor-token-file", type=Path, help="file holding the sensor token")
    parser.add_argument("--sensor-name", default="proxy", help="the sensor's registered name")
    parser.add_argument(
        "--allow-plain-http",
        action="store_true",
        help="send the sensor token to an http:// service on another machine (refused "
        "otherwise: anyone on the network could read it)",
    )
    parser.add_argument(
        "--data-dir", type=Path, help="outbox, last good bundle, secrets (~/.clausewarden/proxy)"
    )
    parser.add_argument(
        "--confdir", type=Path, help="mitmproxy's folder, with its CA (default ~/.mitmproxy)"
    )
    parser.add_argument(
        "--ca-name",
        help="the school's name in the CA made at the first start (default: the policy's "
        "school short_name); an existing CA is kept (`clausewarden ca --renew` replaces it)",
    )
    parser.add_argument(
        "--upstream",
        metavar="URL",
        help="send everything on to this proxy (the Local Authority's or the ISP's filter), "
        "e.g. http://filter.la.example:8080: mitmproxy's upstream mode",
    )
    parser.add_argument(
        "--transparent-port",
        type=int,
        metavar="PORT",
        help="also listen on PORT in mitmproxy's transparent mode, for the guest Wi-Fi's port-80 "
        "traffic that the router or nftables redirects there (docs/devices.md): devices that are "
        "not decrypted get the captive-portal notice quoting clauses 3.2, 4.2 and 7",
    )
    parser.add_argument(
        "--captive-host",
        metavar="NAME",
        help="the captive portal's host name, of the https URI handed out in DHCP option 114 "
        "(RFC 8910): its API (RFC 8908) and page are answered on it",
    )
    parser.add_argument(
        "--script",
        action="append",
        default=[],
        metavar="FILE",
        help="another mitmproxy addon script to load after ClauseWarden's",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="any other mitmproxy or clausewarden_* option",
    )
    parser.set_defaults(run=run)


def mitmdump_command(args: argparse.Namespace) -> list[str]:
    exe = Path(sys.executable).with_name("mitmdump")
    program = str(exe) if exe.exists() else (shutil.which("mitmdump") or "mitmdump")
    options = {
        "connection_strategy": "lazy",  # a warning page needs no upstream connection
        "flow_detail": "0",  # mitmdump would otherwise print every URL
        "termlog_verbosity": "warn",  # and every connection's addresses, tunnels included
        # A hung upstream or a half-sent request is let go after 2 minutes, not mitmproxy's 10:
        # long enough for a slow upload's pauses, short enough not to pile up connections.
        "tcp_timeout": "120",
        "clausewarden_sensor": args.sensor_name,
    }
    if args.confdir:
        options["confdir"] = str(args.confdir)
    from policy.configdir import find_config_dir

    # The folder found as every command finds it (--config, CLAUSEWARDEN_CONFIG,
    # /etc/clausewarden when installed, the built-in one), named so the proxy reloads it.
    options["clausewarden_config"] = str(find_config_dir(args.config)[0])
    if args.allow_plain_http:
        options[ALLOW_PLAIN_HTTP_OPTION] = "true"
    if args.service_url:
        options["clausewarden_service"] = args.service_url
    if args.captive_host:
        options["clausewarden_captive_host"] = args.captive_host
    if args.sensor_token_file:
        options["clausewarden_token_file"] = str(args.sensor_token_file)
    if args.data_dir:
        options["clausewarden_data_dir"] = str(args.data_dir)
    extra: list[str] = []
    for option in args.set:
        name, sep, value = option.partition("=")
        if sep and name in options:
            options[name] = value  # mitmdump refuses two values for one option: --set wins
        else:
            extra += ["--set", option]
    command = [program, "--listen-host", args.listen_host, "--listen-port", str(args.listen_port)]
    if args.upstream:
        command += ["--mode", f"upstream:{upstream_url(args.upstream)}"]
    elif args.transparent_port:
        command += ["--mode", "regular"]  # named, since a second mode is added below
    if args.transparent_port:
        # Port 80 redirected here: answered on the name asked for (proxy_addon/transparent.py).
        command += ["--mode", f"transparent@{args.transparent_port}"]
    command += ["-s", str(ADDON)]
    for script in args.script:
        command += ["-s", str(script)]
    for name, value in options.items():
        command += ["--set", f"{name}={value}"]
    return command + extra


def upstream_url(value: str) -> str:
    """The upstream proxy as mitmproxy takes it, or CommandError naming the fix."""
    from urllib.parse import urlsplit

    from clausewarden.problems import CommandError

    parts = urlsplit(value if "://" in value else "")
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        example = value if "://" in value else f"http://{value}"
        raise CommandError(
            f"--upstream {value!r} is not a proxy URL: give its scheme, host and port, "
            f"e.g. {example}"
        )
    return f"{parts.scheme}://{parts.netloc}"


def where_line(args: argparse.Namespace) -> str:
    """One line: where the policy comes from and which data folder the proxy uses, and why."""
    from policy.configdir import find_config_dir

    config_dir, why = find_config_dir(args.config)
    data = args.data_dir or default_data_dir()
    data_why = "--data-dir" if args.data_dir else "the default"
    policy = (
        f"the service {args.service_url} (until it answers: the last good copy, else {config_dir})"
        if args.service_url
        else f"{config_dir.resolve()} ({why})"
    )
    return f"Policy: {policy}; data folder: {data.resolve()} ({data_why})"


def make_ca(args: argparse.Namespace) -> str:
    """Make the CA named for the school before mitmdump would make its own "mitmproxy" one;
    a line saying so, or "" when a CA was there already."""
    from policy.configdir import find_config_dir, load_config_dir
    from policy.errors import ConfigError
    from proxy_addon.school_ca import ca_common_name, make_school_ca

    confdir = (args.confdir or Path.home() / ".mitmproxy").expanduser()
    try:
        config = load_config_dir(find_config_dir(args.config)[0]) if not args.ca_name else None
    except ConfigError:
        return ""  # mitmdump then reports the configuration's problems in its own words
    school = args.ca_name or (config.policy.school.short_name if config else "")
    if not make_school_ca(confdir, school):
        return ""
    name = ca_common_name(school)
    return f"Made the proxy's CA {name!r} in {confdir} (clausewarden ca: how devices trust it)"


def run(args: argparse.Namespace) -> int:
    from clausewarden.problems import CommandError, check_port_free
    from proxy_addon.service_client import plain_http_refusal

    command = mitmdump_command(args)
    allowed = args.allow_plain_http or f"{ALLOW_PLAIN_HTTP_OPTION}=true" in map(str.lower, args.set)
    refusal = plain_http_refusal(args.service_url, allowed) if args.service_url else None
    if refusal:  # said in this command's words: its options, not mitmproxy's
        refusal = refusal.replace("clausewarden_service:", "--service-url")
        raise CommandError(
            refusal.replace(f"set {ALLOW_PLAIN_HTTP_OPTION}=true", "give --allow-plain-http")
        )
    print(where_line(args), flush=True)
    made = make_ca(args)
    if made:
        print(made, flush=True)
    # mitmdump would say "Try specifying a different port by using `--mode regular@8081`", an
    # option of its own: the person ran `clausewarden proxy`, so say it in its words first.
    check_port_free(args.listen_host, args.listen_port, "--listen-port")
    if args.transparent_port:
        check_port_free(args.listen_host, args.transparent_port, "--transparent-port")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)  # noqa: S606 (our own mitmdump, no shell)
    return 0  # not reached
