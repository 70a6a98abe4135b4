"""`clausewarden config validate [DIR]` and `clausewarden config init DIR`."""

import argparse
import shutil
import sys
from pathlib import Path

from policy.bundle import compile_bundle
from policy.config import FILE_MODELS
from policy.configdir import DEFAULT_CONFIG_DIR, find_config_dir, load_config_dir
from policy.coverage import GAP_FIX, clause_map, gaps


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    config = sub.add_parser("config", help="work with the configuration folder")
    actions = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    validate = actions.add_parser("validate", help="check every configuration file")
    validate.add_argument(
        "folder", nargs="?", default=None, help="folder (default: as `serve` finds it)"
    )
    validate.add_argument(
        "--config", type=Path, help="the same folder, as the other commands take it"
    )
    validate.set_defaults(run=run_validate)
    init = actions.add_parser(
        "init", help="copy the built-in configuration into a folder (e.g. /etc/clausewarden)"
    )
    init.add_argument(
        "folder", type=Path, help="the folder to make (it may exist, but not its files)"
    )
    init.set_defaults(run=run_init)


def run_validate(args: argparse.Namespace) -> int:
    folder = find_config_dir(args.folder or args.config)[0]
    config = load_config_dir(folder)  # ConfigError is reported by cli.main
    print(
        f"{folder}: valid. {len(config.policy.clauses)} clauses, "
        f"{len(config.platforms.platforms)} platforms, {len(config.rules.rules)} rules, "
        f"{len(config.accounts.accounts)} school accounts, "
        f"{len(config.device_groups.device_groups)} device groups."
    )
    # Every clause needs an entry on the clause coverage map (`clausewarden clauses`).
    missing = gaps(clause_map(compile_bundle(config), config.rules.not_judged))
    if missing:
        print(
            f"{folder}: clause {', '.join(missing)} of policy.yaml has no entry on the clause "
            f"coverage map: {GAP_FIX}",
            file=sys.stderr,
        )
        return 1
    return 0


def run_init(args: argparse.Namespace) -> int:
    folder: Path = args.folder
    names = sorted(FILE_MODELS)
    taken = [name for name in names if (folder / name).exists()]
    if taken:
        print(
            f"clausewarden config init: {folder} already has {', '.join(taken)}; nothing was "
            "copied (edit those files, or choose an empty folder)",
            file=sys.stderr,
        )
        return 1
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(DEFAULT_CONFIG_DIR / name, folder / name)
        (folder / name).chmod(0o644)
    print(f"wrote {len(names)} files to {folder}: {', '.join(names)}")
    print(f"Edit them for your school, then: clausewarden config validate {folder}")
    return 0
