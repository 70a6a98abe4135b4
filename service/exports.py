"""The event log's cells as CSV or JSON lines, for the admin export, the reporting API and
`clausewarden events export`: one format, written a day at a time as the events are read (never
all in memory). A row is a cell of events resting on at least k distinct devices (see
service.figures): no event id, time of day, sensor or device pseudonym. The last line says how
many cells were hidden and why: `# ...` in CSV, `{"hidden_cells": ...}` in JSON lines."""

import csv
import io
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.figures import HIDDEN_NOTE, LOG_COLUMNS
from service.queries import EventFilter, log_days

CONTENT_TYPES = {"csv": "text/csv", "json": "application/x-ndjson"}


def header(fmt: str) -> bytes:
    """What comes before the first row: the column names for CSV, nothing for JSON lines."""
    return (",".join(LOG_COLUMNS) + "\r\n").encode() if fmt == "csv" else b""


def encode(rows: Iterable[dict[str, Any]], fmt: str) -> bytes:
    """Released rows as CSV lines (`csv`) or JSON lines (anything else)."""
    if fmt != "csv":
        return b"".join(orjson.dumps(row) + b"\n" for row in rows)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_cells(row) for row in rows)
    return buffer.getvalue().encode()


def footer(fmt: str, hidden: int, k: int, next_cursor: str | None = None) -> bytes:
    """The last line: how many cells are hidden, and why (never how many events)."""
    note = f"{hidden} {HIDDEN_NOTE.format(k=k)}"
    if fmt == "csv":
        return f"# {note}\r\n".encode()
    summary: dict[str, Any] = {"hidden_cells": hidden, "k": k, "note": note}
    if next_cursor is not None:
        summary["next_cursor"] = next_cursor
    return orjson.dumps(summary) + b"\n"


async def parts(
    conn: AsyncConnection,
    tz: ZoneInfo,
    k: int,
    flt: EventFilter,
    fmt: str,
    *,
    cursor: tuple[date, int] | None = None,
    limit: int | None = None,
) -> AsyncIterator[bytes]:
    """The export, oldest day first, as encoded parts: header, a day at a time, footer."""
    if first := header(fmt):
        yield first
    hidden, written, next_cursor = 0, 0, None
    days = log_days(conn, tz, k, flt, newest_first=False, cursor=cursor)
    async with aclosing(days):
        async for day in days:
            rows = day.rows
            if limit is not None and written + len(rows) > limit:
                rows = rows[: limit - written]
                next_cursor = f"{day.day},{day.skipped + len(rows)}"
            hidden += day.hidden
            written += len(rows)
            if rows:
                yield encode(rows, fmt)
            if next_cursor is not None:
                break
    yield footer(fmt, hidden, k, next_cursor)


async def respond(
    request: web.Request,
    engine: AsyncEngine,
    tz: ZoneInfo,
    k: int,
    flt: EventFilter,
    fmt: str,
    headers: dict[str, str],
    *,
    cursor: tuple[date, int] | None = None,
    limit: int | None = None,
) -> web.StreamResponse:
    """A streamed response of the released cells, oldest day first."""
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    async with engine.connect() as conn:
        async for part in parts(conn, tz, k, flt, fmt, cursor=cursor, limit=limit):
            await response.write(part)
    await response.write_eof()
    return response


def attachment_headers(fmt: str, filename: str) -> dict[str, str]:
    return {
        "Content-Type": f"{CONTENT_TYPES[fmt]}; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
    }


def csv_cells(row: dict[str, Any]) -> list[str]:
    """One released cell as CSV cells; clause ids space-separated; formula-like text defused."""
    data = {**row, "clauses": " ".join(row["clauses"]), "may_apply": " ".join(row["may_apply"])}
    return [_csv_cell(data[c]) for c in LOG_COLUMNS]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text_value = str(value)
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    return "'" + text_value if text_value[:1] in ("=", "+", "-", "@") else text_value
