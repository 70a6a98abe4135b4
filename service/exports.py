"""Events as CSV or JSON lines, for the admin export, the reporting API and `clausewarden events
export`: one format, written part by part as the rows are read (never all in memory)."""

import csv
import io
from collections.abc import Iterable
from typing import Any

import orjson
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from service.queries import EVENT_COLUMNS, EventFilter, event_json, stream_rows

CONTENT_TYPES = {"csv": "text/csv", "json": "application/x-ndjson"}


def header(fmt: str) -> bytes:
    """What comes before the first row: the column names for CSV, nothing for JSON lines."""
    return (",".join(EVENT_COLUMNS) + "\r\n").encode() if fmt == "csv" else b""


def encode(rows: Iterable[Any], fmt: str) -> bytes:
    """Rows as CSV lines (`csv`) or JSON lines (anything else)."""
    if fmt != "csv":
        return b"".join(orjson.dumps(event_json(row)) + b"\n" for row in rows)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_cells(row) for row in rows)
    return buffer.getvalue().encode()


async def respond(
    request: web.Request,
    engine: AsyncEngine,
    flt: EventFilter,
    fmt: str,
    headers: dict[str, str],
    *,
    cursor: tuple[str, str] | None = None,
    limit: int | None = None,
    size: int = 1000,
) -> web.StreamResponse:
    """A streamed response of the filtered events, oldest first."""
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    if first := header(fmt):
        await response.write(first)
    async with engine.connect() as conn:
        async for part in stream_rows(conn, flt, cursor=cursor, limit=limit, size=size):
            await response.write(encode(part, fmt))
    await response.write_eof()
    return response


def attachment_headers(fmt: str, filename: str) -> dict[str, str]:
    return {
        "Content-Type": f"{CONTENT_TYPES[fmt]}; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
    }


def csv_cells(row: Any) -> list[str]:
    """One event as CSV cells; clause ids space-separated; formula-like text defused."""
    data = event_json(row)
    data["clauses"] = " ".join(data["clauses"])
    return [_csv_cell(data[c]) for c in EVENT_COLUMNS]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text_value = str(value)
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    return "'" + text_value if text_value[:1] in ("=", "+", "-", "@") else text_value
