"""What code outside the running service (the CLI's commands, tests, benchmarks) needs from it:
the store opened with its migrations applied, and the policy bundle's source. The command-line
options that build a Config live with the CLI (clausewarden/commands/service_args.py)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from service import audit
from service.config import Config, secure_data_dir
from service.db import make_engine, migrate


@asynccontextmanager
async def open_store(config: Config) -> AsyncIterator[AsyncEngine]:
    secure_data_dir(config)
    engine = make_engine(config.url)
    try:
        await migrate(engine)
        secure_data_dir(config)  # the database file may have been made just now
        await audit.attach(engine, config.data_dir)
        yield engine
    finally:
        await engine.dispose()


def bundle_source(config: Config) -> tuple[Any, Any, ZoneInfo]:
    """(school config, BundleBuilder, time zone) for a command working on the store."""
    from policy.configdir import load_config_dir
    from service.bundle import BundleBuilder

    school = load_config_dir(config.config_dir)
    tz = ZoneInfo(school.schedule.time_zone)
    return school, BundleBuilder(school), tz
