"""`clausewarden clauses [--config DIR]`: the clause coverage map, every clause of the policy with
what ClauseWarden does for it (the same map as the service's /clauses page)."""

import argparse
import sys
from pathlib import Path

from policy.bundle import compile_bundle
from policy.configdir import load_config_dir
from policy.coverage import GAP_FIX, as_text, clause_map, gaps


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "clauses",
        help="print the clause coverage map",
        description="Every clause of the school's policy with the rules, pages and reports that "
        "act on it, or the school's line why the software does not judge it. Exits 1 when a "
        "clause has no entry.",
    )
    parser.add_argument("--config", type=Path, help="configuration folder (default: config/)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = load_config_dir(args.config)  # ConfigError is reported by cli.main
    entries = clause_map(compile_bundle(config), config.rules.not_judged)
    print("\n".join(as_text(entries)))
    missing = gaps(entries)
    if missing:
        print(
            f"clausewarden clauses: no entry for clause {', '.join(missing)}: {GAP_FIX}",
            file=sys.stderr,
        )
        return 1
    return 0
