"""Stored events: checked Events inserted idempotently by id in the caller's transaction, and
only the events stored added to the daily rollups. SQLite takes plain `executemany` statements
(one writer); PostgreSQL takes `INSERT ... ON CONFLICT` (concurrent writers)."""

from collections import Counter
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from policy.event import EVENT_FIELDS, EVENT_SPECS, Event
from service.db import clause_json, daily_counts, daily_devices, events
from service.ingest.rollups import Rollup

_COLUMNS = ", ".join(EVENT_FIELDS)
_PLACEHOLDERS = ", ".join("?" * len(EVENT_FIELDS))
_SQLITE_EVENTS = (
    f"INSERT INTO events ({_COLUMNS}) VALUES ({_PLACEHOLDERS}) ON CONFLICT (id) DO NOTHING"  # noqa: E501, S608 - fixed names
)
_SQLITE_COUNTS = (
    "INSERT INTO daily_counts (day, dim, value, n) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (day, dim, value) DO UPDATE SET n = daily_counts.n + excluded.n"
)
_SQLITE_DEVICE_COUNTS = (
    "INSERT INTO daily_counts (day, dim, value, n, devices) VALUES (?, ?, ?, 0, ?) "
    "ON CONFLICT (day, dim, value) DO UPDATE "
    "SET devices = coalesce(daily_counts.devices, 0) + excluded.devices"
)
_DEVICE_CHUNK = 2000  # rows per multi-row INSERT (4 bound values each; SQLite allows 32,766)
_VALUES = attrgetter(*EVENT_FIELDS)
_LISTS = tuple(i for i, s in enumerate(EVENT_SPECS) if s.json_type == "array")
"""The list columns (clause ids: `clauses`, `may_apply`), bound by hand as JSON on SQLite."""


def _row(event: Event) -> dict[str, Any]:
    """An Event as the events table's row (the column names are its field names)."""
    return dict(zip(EVENT_FIELDS, _VALUES(event), strict=True))


def _sqlite_values(row: dict[str, Any]) -> tuple[Any, ...]:
    values = list(row.values())
    for i in _LISTS:
        values[i] = clause_json(values[i])  # bound by hand: no column type applies
    return tuple(values)


async def store_events(
    conn: AsyncConnection, checked: Sequence[Event], rollup: Rollup
) -> tuple[int, int, list[dict[str, Any]]]:
    """Insert in the caller's transaction; returns (stored, duplicates, device rows written):
    pass the device rows to `rollup.remember` once the transaction has committed.

    SQLite (one writer, serialised by the caller) takes a fast path of plain `executemany`
    statements: find the ids already stored, insert the rest. PostgreSQL, with concurrent
    writers, uses `INSERT ... ON CONFLICT DO NOTHING RETURNING id`: the ids returned are
    exactly the events this batch stored."""
    if not checked:
        return 0, 0, []
    rows = [_row(event) for event in checked]
    if conn.dialect.name == "sqlite":
        ids = tuple(r["id"] for r in rows)
        placeholders = ", ".join("?" * len(ids))  # values are bound, never formatted in
        found = await conn.exec_driver_sql(
            f"SELECT id FROM events WHERE id IN ({placeholders})",  # noqa: S608
            ids,
        )
        existing = {r[0] for r in found}
        stored = [r for r in rows if r["id"] not in existing] if existing else rows
        if stored:
            await conn.exec_driver_sql(_SQLITE_EVENTS, [_sqlite_values(r) for r in stored])
    else:
        result = await conn.execute(
            postgresql.insert(events)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(events.c.id),
            rows,
        )
        stored_ids = {r[0] for r in result}
        stored = [r for r in rows if r["id"] in stored_ids] if len(stored_ids) < len(rows) else rows
    device_rows = await add_to_rollups(conn, stored, rollup)
    return len(stored), len(rows) - len(stored), device_rows


async def add_to_rollups(
    conn: AsyncConnection, rows: list[dict[str, Any]], rollup: Rollup
) -> list[dict[str, Any]]:
    """Add stored events to the daily counts. A device row inserted for the first time that day
    (the INSERT returns only new rows) adds one to that figure's distinct-device count, so the
    dashboard reads counts only and never aggregates devices at query time."""
    if not rows:
        return []
    count_rows, device_rows = rollup.tally(rows)
    new_devices: Counter[tuple[str, str, str]] = Counter()
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql(
            _SQLITE_COUNTS, [(r["day"], r["dim"], r["value"], r["n"]) for r in count_rows]
        )
        for start in range(0, len(device_rows), _DEVICE_CHUNK):
            chunk = device_rows[start : start + _DEVICE_CHUNK]
            values = ", ".join(["(?, ?, ?, ?)"] * len(chunk))
            params = tuple(v for r in chunk for v in (r["day"], r["dim"], r["value"], r["device"]))
            inserted = await conn.exec_driver_sql(
                "INSERT INTO daily_devices (day, dim, value, device) "  # noqa: S608 - placeholders
                f"VALUES {values} ON CONFLICT DO NOTHING RETURNING day, dim, value",
                params,
            )
            new_devices.update((row[0], row[1], row[2]) for row in inserted)
        if new_devices:
            await conn.exec_driver_sql(
                _SQLITE_DEVICE_COUNTS, [(d, m, v, n) for (d, m, v), n in new_devices.items()]
            )
        return device_rows
    stmt = postgresql.insert(daily_counts)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["day", "dim", "value"], set_={"n": daily_counts.c.n + stmt.excluded.n}
        ),
        count_rows,
    )
    if device_rows:
        inserted = await conn.execute(
            postgresql.insert(daily_devices)
            .on_conflict_do_nothing()
            .returning(daily_devices.c.day, daily_devices.c.dim, daily_devices.c.value),
            device_rows,
        )
        new_devices.update((row[0], row[1], row[2]) for row in inserted)
    if new_devices:
        stmt = postgresql.insert(daily_counts)
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["day", "dim", "value"],
                set_={"devices": func.coalesce(daily_counts.c.devices, 0) + stmt.excluded.devices},
            ),
            [
                {"day": d, "dim": m, "value": v, "n": 0, "devices": n}
                for (d, m, v), n in new_devices.items()
            ],
        )
    return device_rows
