"""The options every command working on the service's store shares, and the Config they make."""

import argparse
import os
from pathlib import Path

from service.config import DEFAULT_DATA_DIR, Config


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("CLAUSEWARDEN_DATA", DEFAULT_DATA_DIR)),
        help="data folder: SQLite file, session key, salts (default: ./data in the checkout)",
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("CLAUSEWARDEN_DATABASE"),
        metavar="URL",
        help="SQLAlchemy URL, e.g. postgresql+asyncpg://user@host/db (default: SQLite in the "
        "data folder)",
    )
    parser.add_argument("--config", type=Path, help="configuration folder (default: config/)")


def config_from(args: argparse.Namespace, **extra: object) -> Config:
    return Config(
        data_dir=args.data_dir.resolve(),
        config_dir=args.config,
        database_url=args.database,
        **extra,  # type: ignore[arg-type]
    )
