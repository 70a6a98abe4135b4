"""Every table of the service's store (SQLAlchemy Core), the engine, and the migrations.

SQLite (WAL, the embedded default) and PostgreSQL (asyncpg) are one URL apart: times are stored
as ISO-8601 UTC text (`YYYY-MM-DDTHH:MM:SSZ`, which sorts like time) and days as `YYYY-MM-DD`.
"""

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    event,
    false,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.types import TypeEngine

from policy.event import EVENT_SPECS

log = logging.getLogger("clausewarden.service")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class ClauseIds(TypeDecorator[tuple[str, ...]]):
    """An event's clause ids, in order, read back as a tuple: an array of text on PostgreSQL; on
    SQLite (which has no arrays) a JSON array, written by `clause_json` alone, so that equal
    lists are equal text (the event log groups by them)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(Text()))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return list(value) if dialect.name == "postgresql" else clause_json(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[str, ...] | None:
        if value is None:
            return None
        return tuple(value if dialect.name == "postgresql" else orjson.loads(value))


def clause_json(clauses: Sequence[str]) -> str:
    """Clause ids as SQLite stores them: a compact JSON array, `["6.2","7"]`."""
    return orjson.dumps(list(clauses)).decode()


def event_columns() -> list[Column[Any]]:
    """The events table's columns, one per field of policy.event.Event, in its order: a field's
    spec gives the width and whether it may be null. A test checks the migrations agree."""
    columns: list[Column[Any]] = []
    for spec in EVENT_SPECS:
        kind: TypeEngine[Any]
        if spec.json_type == "boolean":
            kind = Boolean()
        elif spec.json_type == "array":
            kind = ClauseIds()
        else:
            kind = String(spec.max_length)
        columns.append(
            Column(spec.name, kind, primary_key=spec.name == "id", nullable=spec.nullable)
        )
    return columns


events = Table(
    "events",
    metadata,
    *event_columns(),
    # `clauses` holds the clause ids as a list (ClauseIds): nothing splits a string.
    Index("ix_events_time_id", "time", "id"),
    Index("ix_events_platform_time", "platform", "time"),
    Index("ix_events_outcome_time", "outcome", "time"),
)

daily_counts = Table(
    "daily_counts",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("dim", String(16), primary_key=True),
    Column("value", String(64), primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("devices", Integer),
    # Distinct devices that day, counted at ingest (daily_devices says which were seen).
)

daily_devices = Table(
    "daily_devices",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("dim", String(16), primary_key=True),
    Column("value", String(64), primary_key=True),
    Column("device", String(32), primary_key=True),
)

sensors = Table(
    "sensors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(20), nullable=False),
    Column("revoked_at", String(20)),
    Column("last_seen", String(20)),
    Column("outbox_pending", Integer),
    Column("outbox_dropped", Integer),
    Column("oldest_pending", String(20)),
    Column("outbox_rejected", Integer),
    # Events the service refused for good, as the sensor's outbox counts them.
    Column("clock_skew_seconds", Integer),
    # How far the sensor's clock was ahead of the service's at its last batch (negative: behind).
    Column("kind", String(16), nullable=False, server_default="proxy"),
    # "proxy" (a server, one per site), "laptop" (one extension's credential: investigation
    # checks reach it only when named, service.investigation_store) or "enrol" (the managed
    # policy's enrolment secret: it can only enrol a laptop, service.enrolment).
    Column("public_key", Text),
    # An enrolled laptop's ECDSA P-256 public key (SPKI, base64); its private key never leaves it.
    Column("waiting", Boolean, nullable=False, server_default=false()),
    # Enrolled beyond the fleet size the admin stated: nothing accepted until the admin approves.
    Column("session_expires", String(20)),
    Column("last_challenge", String(64)),
    # An enrolled laptop's bearer token is a short-lived session (token_hash above), got by
    # signing a challenge later than the last one it signed (no replay).
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", String(20), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_by", String(64)),
    # Who created the account (a user's name, or "cli"): they chose its first password.
    Column("granted_by", String(64)),
    # Who gave it its present role.
    Column("approved_by", String(64)),
    Column("approved_at", String(20)),
    # A headteacher or governor role counts only once another headteacher or governor approved
    # it (service.user_store); null: waiting.
    Column("session_gen", Integer, nullable=False, default=0, server_default="0"),
    # Raised at logout, a password or role change, disabling: every older session ends.
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(20), nullable=False),
    Column("revoked_at", String(20)),
)

school_accounts = Table(
    "school_accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("platform", String(64), nullable=False),
    Column("account_id", String(200), nullable=False),
    Column("label", String(200), nullable=False),
    Column("actions", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    # pending (waits for the headteacher), approved, expired.
    Column("source", String(16), nullable=False),
    # config, admin, request (from a warning page).
    Column("requested_by", String(64)),
    Column("created_at", String(20), nullable=False),
    Column("approved_by", String(64)),
    Column("approved_at", String(20)),
    Column("approved_on", String(10)),
    Column("expires_on", String(10)),
    Column("kind", String(16)),
    # account (a login of its own), profile (a person's own profile), page (a Page, matched only
    # while someone acts as it); null: the platform's only kind.
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(20), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

investigations = Table(
    "investigations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("opened_by", String(64), nullable=False),
    Column("opened_at", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("countersigned_by", String(64)),
    Column("countersigned_at", String(20)),
    Column("closed_at", String(20)),
)

investigation_checks = Table(
    "investigation_checks",
    metadata,
    # One countersigned request to test one named device (clause 4.3): published to the sensors,
    # which keep the key; each answers with that device's pseudonym, counted, never stored.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("investigation_id", Integer, nullable=False),
    Column("device", String(200), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", String(20), nullable=False),
    Column("expires_at", String(20), nullable=False),
    Column("sensor", String(64)),
    # The one sensor the check is for (a laptop's credential, named by the headteacher); None:
    # every proxy-kind sensor, since a proxy serves the device's address.
)

investigation_answers = Table(
    "investigation_answers",
    metadata,
    # One sensor's answer to one check: how many of its stored events carry the pseudonym.
    Column("check_id", Integer, primary_key=True),
    Column("sensor", String(64), primary_key=True),
    Column("answered_at", String(20), nullable=False),
    Column("matching_events", Integer, nullable=False),
    Column("voided_by", String(64)),
    # The headteacher who voided this answer (a sensor she does not trust for it): not counted.
)

staff_reports = Table(
    "staff_reports",
    metadata,
    # What a member of staff chose to tell the headteacher (clauses 8.1, 8.4, 5.3, 11.3.7): the
    # one place a name is kept, typed by them. Apart from the events, never joined to them; read by
    # the headteacher alone (service.staff_report_store), deleted after its own retention period.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("received_on", String(10), nullable=False),
    # The day it came (the school's date), never the time, the sensor or the platform: those
    # matched a report to the one device whose events fell in the same slot.
    Column("kind", String(32), nullable=False),
    Column("what_happened", Text, nullable=False),
    Column("name", String(200), nullable=False),
    Column("contact", String(200), nullable=False),
    Column("email_status", String(16), nullable=False),
    # off (no SMTP server set), sending, sent, failed.
    Column("email_detail", String(200)),
    Column("first_read_at", String(20)),
    Column("recipient", String(64), nullable=False, server_default="headteacher"),
    # Who it was sent to (policy.staff_report): the Headteacher, or a line manager or the senior
    # team the school names; only the account reading for that recipient opens it.
)

report_readers = Table(
    "report_readers",
    metadata,
    # The account that reads each recipient's reports, other than the Headteacher's (read by the
    # headteacher role): chosen by a headteacher alone, every change in the audit log.
    Column("recipient", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("chosen_by", String(64), nullable=False),
    Column("chosen_at", String(20), nullable=False),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("first_seen", String(20), nullable=False),
    Column("replaced_at", String(20)),
    Column("document", Text, nullable=False),
    # The policy document (clauses) as JSON, kept 7 years after it is replaced.
)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    # A 64 MiB page cache and fewer, larger checkpoints: about 1.7x the ingest rate at 1M rows.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    """An engine for `url`; for SQLite the folder is made and WAL/NORMAL set per connection."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 15})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10)


def alembic_config(connection: Connection) -> Any:
    """Alembic's configuration of the migrations here, run on `connection`."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    from alembic import command

    before = _revision(connection)
    command.upgrade(alembic_config(connection), "head")
    after = _revision(connection)
    if before is None:
        log.info("database created at schema revision %s (migrations run at every start)", after)
    elif before != after:
        log.info(
            "database upgraded from schema revision %s to %s (migrations run at start; to roll "
            "back, restore the backup taken before the upgrade: docs/operating.md)",
            before,
            after,
        )
    else:
        log.info("database schema up to date (revision %s; migrations run at every start)", after)


def _revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    revision: str | None = MigrationContext.configure(connection).get_current_revision()
    return revision


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema up to date (Alembic, programmatically); safe to run on every start."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
