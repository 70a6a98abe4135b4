"""What the service's commands share: the common options and a store opened with migrations."""

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from service.config import DEFAULT_DATA_DIR, Config
from service.db import make_engine, migrate


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


@asynccontextmanager
async def open_store(config: Config) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(config.url)
    try:
        await migrate(engine)
        yield engine
    finally:
        await engine.dispose()


def bundle_source(config: Config) -> tuple[Any, Any, ZoneInfo]:
    """(school config, BundleSource, time zone) for a command working on the store."""
    from policy.configdir import load_config_dir
    from service.bundle import BundleSource, SaltKeeper

    school = load_config_dir(config.config_dir)
    tz = ZoneInfo(school.schedule.time_zone)
    return school, BundleSource(school, SaltKeeper(config.data_dir, tz)), tz
