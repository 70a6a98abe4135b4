"""The options every command working on the service's store shares, and the Config they make."""

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clausewarden.help_texts import CONFIG_HELP, DATA_HELP
from service.config import DEFAULT_DATA_DIR, Config


class _DataDirGiven(argparse.Action):
    """Stores --data-dir and notes that it was given, so the banner says why this folder: a
    --data-dir that happens to equal the default is still the option's."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        namespace.data_dir_given = True


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        action=_DataDirGiven,
        default=Path(os.environ.get("CLAUSEWARDEN_DATA", DEFAULT_DATA_DIR)),
        help=DATA_HELP,
    )
    parser.set_defaults(data_dir_given=False)
    parser.add_argument(
        "--database",
        default=os.environ.get("CLAUSEWARDEN_DATABASE"),
        metavar="URL",
        help="SQLAlchemy URL, e.g. postgresql+asyncpg://user@host/db (default: SQLite in the "
        "data folder)",
    )
    parser.add_argument("--config", type=Path, help=CONFIG_HELP)


def config_from(args: argparse.Namespace, **extra: object) -> Config:
    return Config(
        data_dir=args.data_dir.resolve(),
        config_dir=args.config,
        database_url=args.database,
        **extra,  # type: ignore[arg-type]
    )
