"""The event log's filters, cells and cursors, shared by the admin pages, the JSON API and the
exports. What people see is never an event but a cell of events resting on at least k devices
(service.figures says which and why); a cursor is `<local day>,<index of the next cell that day>`.
Device pseudonyms are read only to count a cell's distinct devices, never handed on (an
investigation's one count is service.investigation_store's)."""

import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from policy.ids import CLAUSE_ID, IDENTIFIER
from policy.vocabulary import OUTCOMES
from service.db import events
from service.figures import LOG_DIMS, DayRelease, day_bounds, released_days

_CURSOR = re.compile(r"(\d{4}-\d{2}-\d{2}),(\d{1,9})")


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

    def keep(self, row: dict[str, Any]) -> bool:
        """Whether a released cell (service.figures.log_row) passes the filter (but the dates)."""
        return (
            (self.platform is None or row["platform"] == self.platform)
            and (
                self.clause is None
                or self.clause in row["clauses"]
                or self.clause in row["may_apply"]
            )
            and (self.outcome is None or row["outcome"] == self.outcome)
            and (self.device_group is None or row["device_group"] == self.device_group)
            and (self.working_time is None or row["working_time"] == self.working_time)
        )


def parse_cursor(value: str | None) -> tuple[date, int] | None:
    """A cursor is where the next page starts: `<local day>,<index of its cell that day>`."""
    if not value:
        return None
    match = _CURSOR.fullmatch(value)
    try:
        if not match:
            raise ValueError
        return date.fromisoformat(match.group(1)), int(match.group(2))
    except ValueError:
        raise FilterError("cursor: expected '<day>,<n>' as given with the last page") from None


WINDOW = 7
"""Days read per query by the log and the exports."""
CELL_SOURCE = (events.c.time, *(events.c[name] for name in LOG_DIMS), events.c.sensor)


def cell_query(start: str | None, end: str | None, *, newest_first: bool) -> Select[Any]:
    """Events grouped by time, cell, sensor and device, with their count, in time order."""
    columns = (*CELL_SOURCE, events.c.device)
    query = select(*columns, func.count()).group_by(*columns)
    if start:
        query = query.where(events.c.time >= start)
    if end:
        query = query.where(events.c.time < end)
    return query.order_by(events.c.time.desc() if newest_first else events.c.time)


async def log_days(
    conn: AsyncConnection,
    tz: ZoneInfo,
    k: int,
    flt: EventFilter,
    *,
    newest_first: bool,
    cursor: tuple[date, int] | None = None,
    size: int = 2000,
) -> AsyncGenerator[DayRelease, None]:
    """The released cells, a local day at a time (the cursor's day first, cells skipped). Read a
    week at a time, so that a first page never groups the whole table."""
    first, last = flt.start, flt.end
    if cursor is not None:
        if newest_first:
            last = min(last, cursor[0]) if last else cursor[0]
        else:
            first = max(first, cursor[0]) if first else cursor[0]
    if first is None or last is None:
        span = (await conn.execute(select(func.min(events.c.time), func.max(events.c.time)))).one()
        if span[0] is None:
            return
        oldest, newest = (datetime.fromisoformat(t).astimezone(tz).date() for t in span)
        first, last = first or oldest, last or newest
    windows = []
    day = last if newest_first else first
    while first <= day <= last:
        other = (
            day - timedelta(days=WINDOW - 1) if newest_first else day + timedelta(days=WINDOW - 1)
        )
        low, high = (max(other, first), day) if newest_first else (day, min(other, last))
        windows.append((low, high))
        day = low - timedelta(days=1) if newest_first else high + timedelta(days=1)
    for low, high in windows:
        start, end = day_bounds(tz, low, high)
        result = await conn.stream(cell_query(start, end, newest_first=newest_first))
        async with aclosing(released_days(result.partitions(size), tz, k, flt.keep)) as days:
            async for release in days:
                if cursor is not None and release.day == cursor[0].isoformat():
                    release.rows = release.rows[cursor[1] :]
                    release.skipped = cursor[1]
                yield release


async def page(
    conn: AsyncConnection,
    tz: ZoneInfo,
    k: int,
    flt: EventFilter,
    *,
    cursor: tuple[date, int] | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None, int]:
    """One page of the log, newest day first: its cells, the next page's cursor (or None), and
    the hidden cells of the days it covers."""
    items: list[dict[str, Any]] = []
    hidden = 0
    days = log_days(conn, tz, k, flt, newest_first=True, cursor=cursor)
    async with aclosing(days):
        async for day in days:
            hidden += day.hidden
            for i, row in enumerate(day.rows):
                if len(items) == limit:
                    return items, f"{day.day},{day.skipped + i}", hidden
                items.append(row)
    return items, None, hidden
