"""`clausewarden config validate [DIR]`."""

import argparse

from policy.configdir import default_config_dir, load_config_dir


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    config = sub.add_parser("config", help="work with the configuration folder")
    actions = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    validate = actions.add_parser("validate", help="check every configuration file")
    validate.add_argument("folder", nargs="?", default=None, help="folder (default: config/)")
    validate.set_defaults(run=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    folder = args.folder or default_config_dir()
    config = load_config_dir(folder)  # ConfigError is reported by cli.main
    print(
        f"{folder}: valid. {len(config.policy.clauses)} clauses, "
        f"{len(config.platforms.platforms)} platforms, {len(config.rules.rules)} rules, "
        f"{len(config.accounts.accounts)} school accounts, "
        f"{len(config.device_groups.device_groups)} device groups."
    )
    return 0
