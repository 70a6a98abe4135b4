"""Migration 0010 on SQLite and on a real PostgreSQL (issue 16): a sensor made before it becomes
a proxy (what every sensor was), not waiting, with no public key; a check made before it names no
sensor (so the proxies still get it); the downgrade takes the new columns away."""

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


OLD_SENSOR = (
    "INSERT INTO sensors (name, token_hash, created_at) VALUES ('proxy1', '"
    + "a" * 64
    + "', '2026-11-25T10:00:00Z')"
)
OLD_CHECK = (
    "INSERT INTO investigation_checks (investigation_id, device, requested_by, requested_at, "
    "expires_at) VALUES (1, '10.0.0.42', 'helen', '2026-11-25T10:00:00Z', '2026-11-26T10:00:00Z')"
)


async def test_migration_0010_makes_old_sensors_proxies_and_downgrades(
    tmp_path: Path, database_url: str | None
) -> None:
    engine = make_engine(database_url or f"sqlite+aiosqlite:///{tmp_path / 'cw.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_alembic, "upgrade", "0009")
            await conn.execute(text(OLD_SENSOR))
            await conn.execute(text(OLD_CHECK))
            await conn.run_sync(_alembic, "upgrade", "0010")
            sensor: Any = (await conn.execute(text("SELECT * FROM sensors"))).mappings().one()
            check: Any = (
                (await conn.execute(text("SELECT * FROM investigation_checks"))).mappings().one()
            )
        assert sensor["kind"] == "proxy" and not sensor["waiting"]
        assert sensor["public_key"] is None and sensor["session_expires"] is None
        assert check["sensor"] is None

        async with engine.begin() as conn:
            await conn.run_sync(_alembic, "downgrade", "0009")
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("sensors")}
            )
            names = list(await conn.execute(text("SELECT name FROM sensors")))
        assert not {"kind", "public_key", "waiting", "session_expires"} & columns
        assert [n for (n,) in names] == ["proxy1"]
    finally:
        await engine.dispose()
