"""`clausewarden config validate [DIR]`, `clausewarden config init DIR` and `clausewarden config
use-file schedule.yaml|settings.yaml`.

Term dates saved on the Settings page replace schedule.yaml's, and the privacy level, k and
retention saved there replace settings.yaml's: `validate` says which (from the service's data
folder, when there is one) and since when; `use-file` puts the file back in force."""

import argparse
import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

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
    _store_options(validate)
    validate.set_defaults(run=run_validate)
    use = actions.add_parser(
        "use-file",
        help="use a file's settings again where the Settings page replaced them",
        description="Forget the term dates (schedule.yaml) or the privacy level, k, retention and "
        "clause 7 choice (settings.yaml) saved on the Settings page, so that the file's are in "
        "force again (restart the service after editing the file). Recorded in the audit log.",
    )
    use.add_argument("file", choices=("schedule.yaml", "settings.yaml"))
    use.add_argument(
        "--config", type=Path, help="accepted as the other commands take it (not needed here)"
    )
    _store_options(use)
    use.set_defaults(run=run_use_file)
    init = actions.add_parser(
        "init", help="copy the built-in configuration into a folder (e.g. /etc/clausewarden)"
    )
    init.add_argument(
        "folder", type=Path, help="the folder to make (it may exist, but not its files)"
    )
    init.set_defaults(run=run_init)


def _store_options(parser: argparse.ArgumentParser) -> None:
    from clausewarden.help_texts import DATA_HELP

    parser.add_argument("--data-dir", type=Path, help=DATA_HELP)
    parser.add_argument("--database", metavar="URL", help="the service's database, if not SQLite")


def _data_dir(args: argparse.Namespace) -> Path:
    import os

    from service.config import DEFAULT_DATA_DIR

    if args.data_dir is not None:
        return Path(args.data_dir)
    return Path(os.environ.get("CLAUSEWARDEN_DATA") or DEFAULT_DATA_DIR)


def _database_url(args: argparse.Namespace) -> str | None:
    import os

    url: str | None = args.database or os.environ.get("CLAUSEWARDEN_DATABASE")
    return url


async def _replaced(data_dir: Path, url: str | None) -> list[Any]:
    """What the service's pages replaced, read without migrating or writing anything."""
    from service import settings_store
    from service.config import Config
    from service.db import make_engine

    engine = make_engine(Config(data_dir=data_dir.resolve(), database_url=url).url)
    try:
        async with engine.connect() as conn:
            return await settings_store.replaced_files(conn)
    finally:
        await engine.dispose()


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
    data_dir, url = _data_dir(args), _database_url(args)
    if url is None and not (data_dir / "clausewarden.db").is_file():
        return 0  # no service here: every setting is the files'
    from service import settings_store

    try:
        replaced = asyncio.run(_replaced(data_dir, url))
    except Exception as exc:  # noqa: BLE001 - the files are valid whatever the database says
        print(f"(The service's database could not be read to say what its pages replaced: {exc})")
        return 0
    for item in replaced:
        print(settings_store.replaced_line(item))
    return 0


def run_use_file(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from service import settings_store
    from service.cli_support import open_store
    from service.config import Config

    config = Config(data_dir=_data_dir(args).resolve(), database_url=_database_url(args))

    async def use() -> bool:
        async with open_store(config) as engine, engine.begin() as conn:
            return await settings_store.use_file_again(
                conn, args.file, actor="cli", now=datetime.now(UTC)
            )

    if asyncio.run(use()):
        print(
            f"{args.file} is in force again for what the Settings page had replaced; the "
            "running service reads it at its next start (systemctl restart clausewarden-service)."
        )
    else:
        print(f"Nothing to do: {args.file} was in force already.")
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
