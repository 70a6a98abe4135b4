"""`clausewarden pac`: the proxy auto-config (PAC) file generated from the policy bundle.

The service serves the same file at /proxy.pac (and /wpad.dat) and the proxy at
http://<proxy>:<port>/proxy.pac, both following the policy; this writes one for a file server.
"""

import argparse
import sys
from pathlib import Path

from clausewarden.help_texts import CONFIG_HELP
from policy.bundle import compile_bundle
from policy.configdir import load_config_dir
from policy.pac import pac_text


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "pac",
        help="write a proxy auto-config (PAC) file",
        description="Send the hosts the policy cares about to the proxy and everything else "
        "DIRECT (--all: everything to the proxy). The service serves the same file at "
        "/proxy.pac and /wpad.dat, updated with the policy.",
    )
    parser.add_argument(
        "--proxy",
        default="127.0.0.1:8080",
        help="host:port at which devices reach the proxy (e.g. 10.0.0.5:8080)",
    )
    parser.add_argument("--all", action="store_true", help="send all web traffic to the proxy")
    parser.add_argument("--config", type=Path, help=CONFIG_HELP)
    parser.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    bundle = compile_bundle(load_config_dir(args.config))
    text = pac_text(bundle, args.proxy, all_traffic=args.all)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
