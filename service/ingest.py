"""Checking and storing a batch of events: strict, all or nothing, idempotent by event id.

Validation is plain code (a batch of 1,000 events is checked in about a millisecond). Rows go in
with one `INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id`, so the ids returned are exactly
the events stored; only those are added to the daily rollups.
"""

import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from policy.event import EVENT_FIELDS, RESPONSES
from policy.vocabulary import ACCOUNT_KINDS, ACTIONS, CATEGORIES, OUTCOMES
from service.db import daily_counts, daily_devices, events

MAX_EVENTS = 1000
MAX_BYTES = 1024 * 1024

_HEX32 = re.compile(r"[0-9a-f]{32}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_IDENT = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_CLAUSE = re.compile(r"\d{1,3}(\.\d{1,3}){0,4}")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}")

FIELDS = EVENT_FIELDS
_FIELD_SET = frozenset(FIELDS)
_ENUMS: dict[str, frozenset[str]] = {
    "category": frozenset(CATEGORIES),
    "action": frozenset(ACTIONS),
    "outcome": frozenset(OUTCOMES),
    "account": frozenset(ACCOUNT_KINDS),
    "response": frozenset(RESPONSES),
}
_IDENT_FIELDS = ("platform", "rule", "device_group")


class Problems(list[dict[str, Any]]):
    def add(self, index: int | None, field: str, message: str) -> None:
        self.append({"index": index, "field": field, "message": message})


def check_event(
    i: int, ev: Any, *, sensor: str, oldest: str, newest: str, problems: Problems
) -> dict[str, Any] | None:
    """One event as a row, or None with its problems added (every field checked)."""
    if not isinstance(ev, dict):
        problems.add(i, "", "an event is a JSON object")
        return None
    before = len(problems)
    keys = ev.keys()
    if keys != _FIELD_SET:
        for extra in sorted(keys - _FIELD_SET):
            problems.add(i, extra[:64], "unknown field")
        for missing in FIELDS:
            if missing not in ev:
                problems.add(i, missing, "required field is missing")
    v = ev.get("id")
    if "id" in ev and not (isinstance(v, str) and _HEX32.fullmatch(v)):
        problems.add(i, "id", "expected 32 lowercase hex digits")
    v = ev.get("time")
    if "time" in ev:
        if not (isinstance(v, str) and _TIME.fullmatch(v)):
            problems.add(i, "time", "expected YYYY-MM-DDTHH:MM:SSZ")
        else:
            try:
                datetime.fromisoformat(v)
            except ValueError:
                problems.add(i, "time", "not a real date and time")
            else:
                if v > newest:
                    problems.add(i, "time", "more than a day in the future")
                elif v < oldest:
                    problems.add(i, "time", "older than the retention period")
    v = ev.get("sensor")
    if "sensor" in ev and v != sensor:
        problems.add(i, "sensor", "must be the name of the sensor whose token is used")
    v = ev.get("device")
    if v is not None and not (isinstance(v, str) and _HEX32.fullmatch(v)):
        problems.add(i, "device", "expected 32 lowercase hex digits or null")
    for name, allowed in _ENUMS.items():
        if name in ev and not (isinstance(ev[name], str) and ev[name] in allowed):
            problems.add(i, name, f"expected one of {', '.join(sorted(allowed))}")
    for name in _IDENT_FIELDS:
        if name in ev and not (isinstance(ev[name], str) and _IDENT.fullmatch(ev[name])):
            problems.add(i, name, "expected an id like 'facebook' (a-z, 0-9, '_', '.', '-')")
    v = ev.get("school_account")
    if v is not None and not (isinstance(v, str) and _IDENT.fullmatch(v)):
        problems.add(i, "school_account", "expected a school account id or null")
    v = ev.get("reason_category")
    if v is not None:
        if not (isinstance(v, str) and _IDENT.fullmatch(v)):
            problems.add(i, "reason_category", "expected a continue reason id or null")
        elif ev.get("response") != "continued":
            problems.add(i, "reason_category", "only an event with response 'continued' has one")
    v = ev.get("policy_version")
    if "policy_version" in ev and not (isinstance(v, str) and _VERSION.fullmatch(v)):
        problems.add(i, "policy_version", "expected a policy version id")
    v = ev.get("working_time")
    if "working_time" in ev and not isinstance(v, bool):
        problems.add(i, "working_time", "expected true or false")
    v = ev.get("clauses")
    if "clauses" in ev:
        if not (
            isinstance(v, list)
            and len(v) <= 20
            and all(isinstance(c, str) and _CLAUSE.fullmatch(c) for c in v)
        ):
            problems.add(i, "clauses", 'expected a list of clause ids like "8.1"')
    if len(problems) != before:
        return None
    row = dict(ev)
    row["clauses"] = "," + ",".join(v) + "," if v else ","
    return row


class _Known:
    """Strings already found valid (times, ids like platform or rule, clause ids): a school's
    events repeat a few hundred of them, so most checks become one set lookup."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.good: set[str] = set()

    def __call__(self, value: Any) -> bool:
        if type(value) is not str:
            return False
        if value in self.good:
            return True
        if not self.pattern.fullmatch(value):
            return False
        if len(self.good) > 20_000:
            self.good.clear()
        self.good.add(value)
        return True


def _real_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


_known_time = _Known(_TIME)
_known_ident = _Known(_IDENT)
_known_clause = _Known(_CLAUSE)
_known_version = _Known(_VERSION)
_good_times: set[str] = set()


def fast_valid(ev: Any, *, sensor: str, oldest: str, newest: str) -> bool:
    """True only if `check_event` would find nothing wrong (the common case, checked quickly);
    False sends the event through `check_event`, which names every problem."""
    if type(ev) is not dict or ev.keys() != _FIELD_SET:
        return False
    t = ev["time"]
    if not _known_time(t) or not oldest <= t <= newest:
        return False
    if t not in _good_times:
        if not _real_time(t):
            return False
        if len(_good_times) > 20_000:
            _good_times.clear()
        _good_times.add(t)
    if ev["sensor"] != sensor:
        return False
    v = ev["id"]
    if type(v) is not str or not _HEX32.fullmatch(v):
        return False
    v = ev["device"]
    if v is not None and (type(v) is not str or not _HEX32.fullmatch(v)):
        return False
    for name, allowed in _ENUMS.items():
        v = ev[name]
        if type(v) is not str or v not in allowed:
            return False
    if not (
        _known_ident(ev["platform"])
        and _known_ident(ev["rule"])
        and _known_ident(ev["device_group"])
        and _known_version(ev["policy_version"])
        and type(ev["working_time"]) is bool
    ):
        return False
    v = ev["school_account"]
    if v is not None and not _known_ident(v):
        return False
    v = ev["reason_category"]
    if v is not None and not (_known_ident(v) and ev["response"] == "continued"):
        return False
    clauses = ev["clauses"]
    return type(clauses) is list and len(clauses) <= 20 and all(map(_known_clause, clauses))


def check_batch(
    body: Any, *, sensor: str, now: datetime, retention_days: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, Problems]:
    """(rows, sensor_status, problems); any problem refuses the whole batch."""
    problems = Problems()
    if not isinstance(body, dict):
        problems.add(None, "", "expected a JSON object with an 'events' list")
        return [], None, problems
    for extra in sorted(body.keys() - {"events", "sensor_status"}):
        problems.add(None, str(extra)[:64], "unknown field")
    batch = body.get("events")
    if not isinstance(batch, list):
        problems.add(None, "events", "expected a list of events")
        return [], None, problems
    if len(batch) > MAX_EVENTS:
        problems.add(None, "events", f"at most {MAX_EVENTS} events in one batch")
        return [], None, problems
    status = body.get("sensor_status")
    if status is not None:
        status = _check_status(status, problems)
    newest = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    oldest = (now - timedelta(days=retention_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = []
    seen: set[str] = set()
    for i, ev in enumerate(batch):
        if fast_valid(ev, sensor=sensor, oldest=oldest, newest=newest):
            row = dict(ev)
            clauses = ev["clauses"]
            row["clauses"] = "," + ",".join(clauses) + "," if clauses else ","
        else:
            row = check_event(i, ev, sensor=sensor, oldest=oldest, newest=newest, problems=problems)
        if row is not None:
            if row["id"] in seen:
                continue  # the same event twice in one batch: stored once
            seen.add(row["id"])
            rows.append(row)
    return rows, status, problems


def _check_status(status: Any, problems: Problems) -> dict[str, Any] | None:
    if not isinstance(status, dict):
        problems.add(None, "sensor_status", "expected an object")
        return None
    for extra in sorted(status.keys() - {"outbox_pending", "outbox_dropped", "oldest_pending"}):
        problems.add(None, f"sensor_status.{str(extra)[:64]}", "unknown field")
    for name in ("outbox_pending", "outbox_dropped"):
        v = status.get(name, 0)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**31:
            problems.add(None, f"sensor_status.{name}", "expected a count")
    v = status.get("oldest_pending")
    if v is not None and not (isinstance(v, str) and _TIME.fullmatch(v)):
        problems.add(None, "sensor_status.oldest_pending", "expected YYYY-MM-DDTHH:MM:SSZ or null")
    return status


_DEVICE_DIMS = frozenset({"all", "platform", "outcome", "hour", "response", "clause"})
"""The breakdowns whose distinct devices are counted (what the dashboard shows or suppresses)."""


class Rollup:
    """Turns stored events into daily counts and per-day distinct-device rows (local days)."""

    KEEP_DAYS = 3

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._local: dict[str, tuple[str, str]] = {}
        self._seen: dict[str, set[tuple[str, str, str]]] = {}
        """Device rows this process has already committed, for the latest days: a school's few
        hundred devices repeat all day, so after the first minutes almost none are new."""

    def remember(self, device_rows: list[dict[str, Any]]) -> None:
        """Call after the transaction holding `device_rows` committed."""
        for row in device_rows:
            day = row["day"]
            seen = self._seen.get(day)
            if seen is None:
                seen = self._seen[day] = set()
                for old in sorted(self._seen)[: -self.KEEP_DAYS]:
                    del self._seen[old]
                if day not in self._seen:
                    continue
            seen.add((row["dim"], row["value"], row["device"]))

    def local(self, time: str) -> tuple[str, str]:
        """(local day, 'weekday-hour') of a UTC time; cached since times are coarsened."""
        hit = self._local.get(time)
        if hit is None:
            at = datetime.fromisoformat(time).astimezone(self.tz)
            hit = (at.date().isoformat(), f"{at.weekday()}-{at.hour:02d}")
            if len(self._local) > 100_000:
                self._local.clear()
            self._local[time] = hit
        return hit

    def keys(self, row: dict[str, Any]) -> list[tuple[str, str, str]]:
        day, hour = self.local(row["time"])
        keys = [
            (day, "all", ""),
            (day, "platform", row["platform"]),
            (day, "outcome", row["outcome"]),
            (day, "group", row["device_group"]),
            (day, "hour", hour),
            (day, "working", "yes" if row["working_time"] else "no"),
        ]
        if row["outcome"] == "warn":
            keys.append((day, "response", row["response"]))
        for clause in row["clauses"].strip(",").split(","):
            if clause:
                keys.append((day, "clause", clause))
        return keys

    def tally(
        self, rows: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        counts: Counter[tuple[str, str, str]] = Counter()
        devices: set[tuple[str, str, str, str]] = set()
        for row in rows:
            keys = self.keys(row)
            counts.update(keys)
            device = row["device"]
            if device:
                devices.update((d, dim, val, device) for d, dim, val in keys if dim in _DEVICE_DIMS)
        count_rows = [{"day": d, "dim": m, "value": v, "n": n} for (d, m, v), n in counts.items()]
        empty: set[tuple[str, str, str]] = set()
        device_rows = [
            {"day": d, "dim": m, "value": v, "device": x}
            for d, m, v, x in devices
            if (m, v, x) not in self._seen.get(d, empty)
        ]
        return count_rows, device_rows


def _insert(conn: AsyncConnection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


_COLUMNS = ", ".join(FIELDS)
_PLACEHOLDERS = ", ".join("?" * len(FIELDS))
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


async def store_rows(
    conn: AsyncConnection, rows: list[dict[str, Any]], rollup: Rollup
) -> tuple[int, int, list[dict[str, Any]]]:
    """Insert in the caller's transaction; returns (stored, duplicates, device rows written):
    pass the device rows to `rollup.remember` once the transaction has committed.

    SQLite (one writer, serialised by the caller) takes a fast path of plain `executemany`
    statements: find the ids already stored, insert the rest. PostgreSQL, with concurrent
    writers, uses `INSERT ... ON CONFLICT DO NOTHING RETURNING id`: the ids returned are
    exactly the events this batch stored."""
    if not rows:
        return 0, 0, []
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
            await conn.exec_driver_sql(
                _SQLITE_EVENTS, [tuple(r[f] for f in FIELDS) for r in stored]
            )
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
