"""The event log's filters and keyset (cursor) pagination, shared by the admin pages, the JSON
API and the exports. Pages stay fast at millions of rows: (time, id) is indexed and a cursor is
the last row seen, never an offset."""

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from policy.event import EVENT_FIELDS
from policy.ids import CLAUSE_ID, IDENTIFIER
from policy.vocabulary import OUTCOMES
from service.db import events

EVENT_COLUMNS = EVENT_FIELDS
"""The events table's columns as the pages, the API and the exports read them: the Event's
fields, in order."""
_CURSOR = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z),([0-9a-f]{32})")


class FilterError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class EventFilter:
    start: date | None = None
    end: date | None = None
    platform: str | None = None
    clause: str | None = None
    outcome: str | None = None
    device_group: str | None = None
    working_time: bool | None = None

    @classmethod
    def from_query(cls, query: Any) -> "EventFilter":
        def day(name: str) -> date | None:
            value = query.get(name) or None
            if value is None:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise FilterError(f"{name}: expected a date like 2026-11-25") from None

        def ident(name: str, pattern: re.Pattern[str]) -> str | None:
            value = query.get(name) or None
            if value is not None and not pattern.fullmatch(value):
                raise FilterError(f"{name}: not a valid value")
            return value

        outcome = query.get("outcome") or None
        if outcome is not None and outcome not in OUTCOMES:
            raise FilterError(f"outcome: expected one of {', '.join(OUTCOMES)}")
        working = query.get("working_time") or None
        if working not in (None, "yes", "no", "true", "false"):
            raise FilterError("working_time: expected yes or no")
        return cls(
            start=day("from"),
            end=day("to"),
            platform=ident("platform", IDENTIFIER),
            clause=ident("clause", CLAUSE_ID),
            outcome=outcome,
            device_group=ident("device_group", IDENTIFIER),
            working_time=None if working is None else working in ("yes", "true"),
        )

    def as_query(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.start:
            out["from"] = self.start.isoformat()
        if self.end:
            out["to"] = self.end.isoformat()
        for name in ("platform", "clause", "outcome", "device_group"):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.working_time is not None:
            out["working_time"] = "yes" if self.working_time else "no"
        return out

    def apply(self, query: Select[Any]) -> Select[Any]:
        conditions = []
        if self.start:
            conditions.append(events.c.time >= f"{self.start.isoformat()}T00:00:00Z")
        if self.end:
            conditions.append(events.c.time < f"{(self.end + timedelta(days=1)).isoformat()}T")
        if self.platform:
            conditions.append(events.c.platform == self.platform)
        if self.clause:
            conditions.append(events.c.clauses.contains(f",{self.clause},", autoescape=True))
        if self.outcome:
            conditions.append(events.c.outcome == self.outcome)
        if self.device_group:
            conditions.append(events.c.device_group == self.device_group)
        if self.working_time is not None:
            conditions.append(events.c.working_time == self.working_time)
        return query.where(and_(*conditions)) if conditions else query


def parse_cursor(value: str | None) -> tuple[str, str] | None:
    """A cursor is the last event seen: `<time>,<id>` (both from the event itself)."""
    if not value:
        return None
    match = _CURSOR.fullmatch(value)
    if not match:
        raise FilterError("cursor: expected '<time>,<id>' of the last event seen")
    return match.group(1), match.group(2)


def page_query(
    flt: EventFilter, *, cursor: tuple[str, str] | None, newest_first: bool, limit: int | None
) -> Select[Any]:
    query = flt.apply(select(*(events.c[name] for name in EVENT_COLUMNS)))
    key = tuple_(events.c.time, events.c.id)
    if cursor is not None:
        query = query.where(key < cursor if newest_first else key > cursor)
    if newest_first:
        query = query.order_by(events.c.time.desc(), events.c.id.desc())
    else:
        query = query.order_by(events.c.time, events.c.id)
    if limit is not None:
        query = query.limit(limit)
    return query


def event_json(row: Any) -> dict[str, Any]:
    data = dict(zip(EVENT_COLUMNS, row, strict=True))
    data["clauses"] = [c for c in data["clauses"].strip(",").split(",") if c]
    return data


async def page(
    conn: AsyncConnection, flt: EventFilter, *, cursor: tuple[str, str] | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the log, newest first, and the cursor of the next page (or None)."""
    rows = list(
        await conn.execute(page_query(flt, cursor=cursor, newest_first=True, limit=limit + 1))
    )
    more = len(rows) > limit
    items = [event_json(r) for r in rows[:limit]]
    next_cursor = f"{items[-1]['time']},{items[-1]['id']}" if more and items else None
    return items, next_cursor


async def stream_rows(
    conn: AsyncConnection,
    flt: EventFilter,
    *,
    cursor: tuple[str, str] | None = None,
    limit: int | None = None,
    size: int = 1000,
) -> AsyncIterator[Sequence[Any]]:
    """The filtered events, oldest first, in parts of `size` rows (never all in memory)."""
    result = await conn.stream(page_query(flt, cursor=cursor, newest_first=False, limit=limit))
    async for part in result.partitions(size):
        yield part


async def count_device_events(conn: AsyncConnection, device: str) -> int:
    """How many stored events carry this device pseudonym (an investigation's one test)."""
    query = select(func.count()).select_from(events).where(events.c.device == device)
    return int((await conn.execute(query)).scalar_one())
