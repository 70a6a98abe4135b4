"""`clausewarden bundle [--out F] [--config DIR]`: write the compiled policy bundle."""

import argparse
import json
import sys
from pathlib import Path

from clausewarden.help_texts import CONFIG_HELP
from policy.bundle import compile_bundle
from policy.configdir import load_config_dir


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("bundle", help="write the compiled policy bundle (JSON)")
    parser.add_argument("--out", type=Path, help="file to write (default: standard output)")
    parser.add_argument("--config", type=Path, help=CONFIG_HELP)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    bundle = compile_bundle(load_config_dir(args.config))
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if args.out:
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.out)  # atomic: a reader never sees half a bundle
        print(f"wrote {args.out} (version {bundle['version']})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
