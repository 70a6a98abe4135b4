"""Migration 0009 on SQLite and on a real PostgreSQL (issue 16): a staff report kept before it, with
its time to the second, sensor and platform, keeps its text and the day only afterwards; the
downgrade puts the columns back."""

from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from service.db import make_engine


def _alembic(connection: Connection, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from service import db

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    cfg.attributes["connection"] = connection
    getattr(command, action)(cfg, revision)


def _columns(connection: Connection) -> set[str]:
    return {c["name"] for c in inspect(connection).get_columns("staff_reports")}


OLD_REPORT = (
    "INSERT INTO staff_reports (reference, received_at, sensor, kind, platform, what_happened, "
    "name, contact, email_status) VALUES ('CW-AAAA-BBBB', '2026-11-25T10:17:42Z', 'office', "
    "'contact', 'facebook', 'A parent messaged me.', 'Sam Teacher', 'sam@school.example', 'off')"
)


async def test_migration_0009_keeps_the_day_only_and_downgrades(
    tmp_path: Path, database_url: str | None
) -> None:
    engine = make_engine(database_url or f"sqlite+aiosqlite:///{tmp_path / 'cw.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_alembic, "upgrade", "0008")
            await conn.execute(text(OLD_REPORT))
            await conn.run_sync(_alembic, "upgrade", "0009")
            columns = await conn.run_sync(_columns)
            row: Any = (await conn.execute(text("SELECT * FROM staff_reports"))).mappings().one()
        assert not {"received_at", "sensor", "platform"} & columns
        assert row["received_on"] == "2026-11-25" and row["name"] == "Sam Teacher"
        assert row["what_happened"] == "A parent messaged me."

        async with engine.begin() as conn:
            await conn.run_sync(_alembic, "downgrade", "0008")
            row = (await conn.execute(text("SELECT * FROM staff_reports"))).mappings().one()
        assert row["received_at"] == "2026-11-25T00:00:00Z" and row["sensor"] == "unknown"
        assert row["platform"] is None
    finally:
        await engine.dispose()
