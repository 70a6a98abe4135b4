"""Dashboard figures from the daily rollups (fast at millions of events: they never scan events).

k-anonymity: a figure resting on fewer than k distinct devices (per local day and value, kept
in daily_counts.devices at ingest; over several days, device-days) is shown to the viewer and
admin roles as "fewer than k". With the privacy level `none` there are no devices, so the test
is on the number of events instead.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.db import daily_counts


@dataclass
class Cell:
    n: int
    devices: int

    def hidden(self, k: int, suppress: bool, by_events: bool) -> bool:
        return suppress and (self.n if by_events else self.devices) < k


@dataclass
class Figures:
    start: date
    end: date
    days: list[str]
    k: int
    suppress: bool
    by_events: bool
    cells: dict[str, dict[str, dict[str, Cell]]] = field(default_factory=dict)
    """dim -> value -> day -> Cell"""

    def value(self, dim: str, value: str, day: str) -> int | None:
        """The count, or None if it must be suppressed."""
        cell = self.cells.get(dim, {}).get(value, {}).get(day)
        if cell is None:
            return 0
        return None if cell.hidden(self.k, self.suppress, self.by_events) else cell.n

    def values(self, dim: str) -> list[str]:
        return sorted(self.cells.get(dim, {}))

    def summed(self, dim: str, value: str) -> int | None:
        """Over the whole range: devices summed as device-days for the suppression test."""
        cells = self.cells.get(dim, {}).get(value, {}).values()
        n = sum(c.n for c in cells)
        devices = sum(c.devices for c in cells)
        if self.suppress and (n if self.by_events else devices) < self.k and n:
            return None
        return n

    def by_hour(self) -> dict[tuple[int, int], int | None]:
        """(weekday, hour) -> the count over the range, or None if it must be suppressed."""
        heat: dict[tuple[int, int], int | None] = {}
        for value in self.values("hour"):
            wd, hour = value.split("-")
            heat[(int(wd), int(hour))] = self.summed("hour", value)
        return heat

    def devices_per_day(self) -> list[int | None]:
        """Distinct devices each day (None: fewer than k, suppressed; 0 with no devices kept)."""
        devices: list[int | None] = []
        for day in self.days:
            cell = self.cells.get("all", {}).get("", {}).get(day)
            if cell is None:
                devices.append(0)
            elif self.suppress and not self.by_events and cell.devices < self.k:
                devices.append(None)
            else:
                devices.append(cell.devices)
        return devices


async def figures(
    conn: AsyncConnection, *, start: date, end: date, k: int, suppress: bool, by_events: bool
) -> Figures:
    first, last = start.isoformat(), end.isoformat()
    counts = await conn.execute(
        select(
            daily_counts.c.day,
            daily_counts.c.dim,
            daily_counts.c.value,
            daily_counts.c.n,
            daily_counts.c.devices,
        ).where(and_(daily_counts.c.day >= first, daily_counts.c.day <= last))
    )
    days = []
    day = start
    while day <= end:
        days.append(day.isoformat())
        day += timedelta(days=1)
    result = Figures(start, end, days, k, suppress, by_events)
    cells: dict[str, dict[str, dict[str, Cell]]] = defaultdict(lambda: defaultdict(dict))
    for d, m, v, n, devices in counts:
        cells[m][v][d] = Cell(int(n), int(devices or 0))
    result.cells = {m: dict(vs) for m, vs in cells.items()}
    return result


def range_for(today: date, days: int) -> tuple[date, date]:
    return today - timedelta(days=days - 1), today


def reminders(school: Any, settings: Any, today: date) -> list[str]:
    out = []
    review_on = school.policy.document.review_on
    if review_on <= today:
        out.append(
            f"The Social Media Policy's review date ({review_on:%d %B %Y}) has passed: "
            "please review the policy."
        )
    due = settings.annual_review_due
    if due is not None and due <= today:
        out.append(
            f"The annual filtering and monitoring review was due on {due:%d %B %Y} "
            "(DfE filtering and monitoring standards)."
        )
    return out


def as_table(fig: Figures, dim: str) -> list[dict[str, Any]]:
    totals = [(value, fig.summed(dim, value)) for value in fig.values(dim)]
    totals.sort(key=lambda item: -(item[1] if item[1] is not None else -1))
    return [{"value": value, "total": total} for value, total in totals]
