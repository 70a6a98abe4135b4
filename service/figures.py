"""Figures for people: every figure rests on at least k distinct devices, and none that is hidden
can be worked out by difference. The same rules for every role (viewer, admin, headteacher,
governor): only an investigation (clause 4.3) ever tests one device.

**Cells.** Device pseudonyms can be compared only within one local day (at level `daily` each
sensor replaces its salt at midnight) and within one sensor (each sensor keeps its own salt), so
distinct devices are counted per local day, and a cell's devices are the most distinct pseudonyms
any one sensor saw in it: a lower bound, a laptop seen by two sensors is never counted twice.

- Dashboard cells: one local day x one breakdown value (the day itself, a platform, an outcome,
  an hour, a warning's response, a clause that applies, a clause that only may apply:
  `service.ingest.rollups.FIGURE_DIMS`, what a chart draws), read from the daily rollups.
- Event-log cells (the admin event log, its CSV and JSON-lines export, `GET /api/v1/events`,
  `clausewarden events export`): local day x platform x category x action x outcome x clause set x
  working time x device group x account kind x response, exactly the columns a row shows. A row is
  one cell with its number of events: no event id, no time of day, no sensor, no device
  pseudonym (only an investigation sees a device).

**Primary suppression.** A cell resting on fewer than k devices is hidden.

**Secondary suppression** (chosen over "totals from shown cells only", because the dashboard's
breakdowns are several partitions of the same day's total). The cells of one day that make up a
released whole either hide nothing, or hide a set that rests on at least k devices:

- on the dashboard, within each breakdown of a day, a hidden set with no cell of k or more
  devices gets the smallest shown cell hidden too (the rollups keep no device lists for old days,
  so a cell of at least k devices is what guarantees the union);
- on the dashboard, a clause's two figures of a day ("applies", "may apply": `PAIRED`) are hidden
  together, so that neither can be worked out from the other and a total citing the clause; the
  breakdowns' secondary suppression then runs again, until nothing more is hidden;
- in the event log, for each whole the dashboard shows or the log filters by (the day; one
  platform, outcome, working time, device group, response, clause that applies or clause that
  only may apply that day), the hidden cells of that whole must together rest on at least k
  devices (counted from the pseudonyms), else its smallest shown cell is hidden too, until that
  holds or all of it is hidden.

So a total minus the shown cells gives at most the sum of a set resting on k or more devices.
Figures over several days are sums of shown day cells only, never of hidden ones.

**Privacy level `none`.** Events carry no device, so k cannot be checked: a cell with no known
device is treated as resting on an unknown, possibly single, device, and is hidden from the log,
the exports and the API. The dashboard then shows coarse counts only: totals over the period
rounded down to tens (below ten: "fewer than 10"), no daily, hourly or device figures.

**Saying what is hidden.** Pages and exports give the number of hidden cells, never of hidden
events, and count only cells a page would show; the log counts them over whole days, whatever
the other filters, so that narrowing a filter cannot find where a hidden cell lies. The
dashboard's clause list leaves out a clause whose figure is hidden rather than naming it: that
anyone acted under a clause (tried a reference: 6.2) is a figure on fewer than k devices, and a
count of the clauses left out would tell it too when few could be.
"""

from collections import defaultdict
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.db import daily_counts
from service.ingest.rollups import FIGURE_DIMS

COARSE_BASE = 10
"""With no devices to count (privacy level none), figures are rounded down to this."""


@dataclass
class Cell:
    n: int
    devices: int


@dataclass
class Figures:
    start: date
    end: date
    days: list[str]
    k: int
    coarse: bool = False
    """Privacy level none: only coarse period totals (see the module's docstring)."""
    cells: dict[str, dict[str, dict[str, Cell]]] = field(default_factory=dict)
    """dim -> value -> day -> Cell"""
    hidden: set[tuple[str, str, str]] = field(default_factory=set)
    """(dim, value, day) of every hidden cell."""

    def suppress(self) -> None:
        """Primary then secondary suppression, one day and one breakdown at a time; a clause's
        two figures (applies, may apply: `PAIRED`) are hidden together, and secondary suppression
        runs again until nothing changes."""
        self.hidden = set()
        everything = self.cells.get("all", {}).get("", {})
        for day in self.days:
            whole = everything.get(day)
            day_ok = whole is not None and whole.devices >= self.k
            members = {
                dim: {v: c[day] for v, c in values.items() if day in c and c[day].n > 0}
                for dim, values in self.cells.items()
            }
            hidden = {
                dim: {v for v, c in cells.items() if not day_ok or c.devices < self.k}
                for dim, cells in members.items()
            }
            changed = True
            while changed:
                changed = False
                for dim, cells in members.items():
                    changed |= _hide_one_more(cells, hidden[dim], self.k)
                changed |= _hide_pairs_together(members, hidden)
            self.hidden.update((dim, v, day) for dim, values in hidden.items() for v in values)

    @property
    def hidden_count(self) -> int:
        """Hidden cells (never events): each a figure the dashboard would draw (a day's devices
        and total, a breakdown's day)."""
        return len(self.hidden)

    def value(self, dim: str, value: str, day: str) -> int | None:
        """The count, or None if it is hidden."""
        if self.coarse:
            return None
        cell = self.cells.get(dim, {}).get(value, {}).get(day)
        if cell is None or cell.n == 0:
            return 0
        return None if (dim, value, day) in self.hidden else cell.n

    def values(self, dim: str) -> list[str]:
        return sorted(self.cells.get(dim, {}))

    def summed(self, dim: str, value: str) -> int | None:
        """Over the whole range: the sum of the shown day cells (None if all are hidden); coarse:
        the whole sum rounded down to tens (None below ten)."""
        cells = self.cells.get(dim, {}).get(value, {})
        if self.coarse:
            n = sum(c.n for c in cells.values())
            return None if n < COARSE_BASE else n - n % COARSE_BASE
        shown = [c.n for d, c in cells.items() if (dim, value, d) not in self.hidden]
        if not shown and any(c.n for c in cells.values()):
            return None
        return sum(shown)

    def by_hour(self) -> dict[tuple[int, int], int | None]:
        """(weekday, hour) -> the sum of its shown day cells, or None if all are hidden."""
        heat: dict[tuple[int, int], int | None] = {}
        for value in self.values("hour"):
            wd, hour = value.split("-")
            heat[(int(wd), int(hour))] = self.summed("hour", value)
        return heat

    def devices_per_day(self) -> list[int | None]:
        """Distinct devices each day (None: fewer than k, hidden; 0: no events)."""
        devices: list[int | None] = []
        for day in self.days:
            cell = self.cells.get("all", {}).get("", {}).get(day)
            if cell is None or cell.n == 0:
                devices.append(0)
            elif self.coarse or ("all", "", day) in self.hidden:
                devices.append(None)
            else:
                devices.append(cell.devices)
        return devices


PAIRED = (("clause", "clause_may"),)
"""Breakdowns whose figures of one value are hidden together: a clause that applies and the same
clause that only may apply (a message: clause 8.1), so that neither can be worked out from the
other and a total."""


def _hide_one_more(cells: dict[str, Cell], hidden: set[str], k: int) -> bool:
    """Secondary suppression of one breakdown of one day: a hidden set resting on no cell of k or
    more devices gets the smallest shown cell hidden too. True if it hid one."""
    if not hidden or any(cells[v].devices >= k for v in hidden):
        return False
    shown = sorted((c.n, v) for v, c in cells.items() if v not in hidden)
    if not shown:
        return False
    hidden.add(shown[0][1])
    return True


def _hide_pairs_together(members: dict[str, dict[str, Cell]], hidden: dict[str, set[str]]) -> bool:
    """Hide each paired figure whose partner is hidden (`PAIRED`). True if it hid one."""
    changed = False
    for pair in PAIRED:
        gone = set().union(*(hidden.get(dim, set()) for dim in pair))
        for dim in pair:
            more = {v for v in gone if v in members.get(dim, {})} - hidden.get(dim, set())
            if more:
                hidden.setdefault(dim, set()).update(more)
                changed = True
    return changed


async def figures(
    conn: AsyncConnection, *, start: date, end: date, k: int, coarse: bool = False
) -> Figures:
    first, last = start.isoformat(), end.isoformat()
    counts = await conn.execute(
        select(
            daily_counts.c.day,
            daily_counts.c.dim,
            daily_counts.c.value,
            daily_counts.c.n,
            daily_counts.c.devices,
        ).where(
            daily_counts.c.day >= first,
            daily_counts.c.day <= last,
            daily_counts.c.dim.in_(FIGURE_DIMS),
            # written by earlier versions, read by no figure: a warning's own response (none)
            ~and_(daily_counts.c.dim == "response", daily_counts.c.value == "none"),
        )
    )
    days = []
    day = start
    while day <= end:
        days.append(day.isoformat())
        day += timedelta(days=1)
    result = Figures(start, end, days, k, coarse)
    cells: dict[str, dict[str, dict[str, Cell]]] = defaultdict(lambda: defaultdict(dict))
    for d, m, v, n, devices in counts:
        cells[m][v][d] = Cell(int(n), int(devices or 0))
    result.cells = {m: dict(vs) for m, vs in cells.items()}
    result.suppress()
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


def as_table(fig: Figures, dim: str, *, name_hidden: bool = True) -> list[dict[str, Any]]:
    """The values of `dim` with their totals over the range, largest first. With `name_hidden`
    false a value whose total is hidden is left out: for a clause, its name alone would say that
    someone acted under it, a figure on fewer than k devices."""
    totals = [(value, fig.summed(dim, value)) for value in fig.values(dim)]
    if not name_hidden:
        totals = [(value, total) for value, total in totals if total is not None]
    totals = [(value, total) for value, total in totals if total != 0 or fig.coarse]
    totals.sort(key=lambda item: -(item[1] if item[1] is not None else -1))
    return [{"value": value, "total": total} for value, total in totals]


def clause_table(fig: Figures) -> list[dict[str, Any]]:
    """ "By clause": per clause, its events where it applies and where it only may apply, over the
    range, largest first. A clause with either figure hidden is left out whole: its two figures
    are hidden together (`PAIRED`), and naming it would say someone acted under it."""
    rows = []
    for value in sorted({*fig.values("clause"), *fig.values("clause_may")}):
        applies, may = (
            fig.summed(dim, value) if fig.cells.get(dim, {}).get(value) else 0
            for dim in ("clause", "clause_may")
        )
        if applies is None or may is None or (applies == 0 and may == 0 and not fig.coarse):
            continue
        rows.append({"value": value, "applies": applies, "may_apply": may})
    rows.sort(key=lambda r: -(r["applies"] + r["may_apply"]))
    return rows


# the event log's cells ---------------------------------------------------------------------------

LOG_DIMS = (
    "platform",
    "category",
    "action",
    "outcome",
    "clauses",
    "may_apply",
    "working_time",
    "device_group",
    "account",
    "response",
)
"""The event fields a log row shows (with its local day): together they define its cell."""
LOG_COLUMNS = ("day", *LOG_DIMS, "events")
"""A row of the event log, its exports and the reporting API."""

HIDDEN_NOTE = (
    "cells hidden: each rests on fewer than k={k} distinct devices, or was hidden so that no "
    "total minus the shown cells can reveal one (no device is ever shown outside an investigation)"
)


@dataclass
class _LogCell:
    n: int = 0
    devices: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """sensor -> the device pseudonyms it saw in this cell."""


def _devices(cells: Iterable[_LogCell]) -> int:
    """Distinct devices of a set of cells: the most any one sensor saw (a lower bound)."""
    by_sensor: dict[str, set[str]] = defaultdict(set)
    for cell in cells:
        for sensor, devices in cell.devices.items():
            by_sensor[sensor] |= devices
    return max((len(d) for d in by_sensor.values()), default=0)


def _wholes(key: tuple[Any, ...]) -> list[tuple[str, str]]:
    """The released wholes (dashboard figures of the day) a log cell belongs to."""
    row = dict(zip(LOG_DIMS, key, strict=True))
    out = [
        ("all", ""),
        ("platform", row["platform"]),
        ("outcome", row["outcome"]),
        ("working", "yes" if row["working_time"] else "no"),
        ("group", row["device_group"]),
    ]
    if row["outcome"] == "warn":
        out.append(("response", row["response"]))
    out += [("clause", c) for c in row["clauses"]]
    out += [("clause_may", c) for c in row["may_apply"]]
    return out


def release_day(cells: dict[tuple[Any, ...], _LogCell], k: int) -> tuple[list[Any], int]:
    """The shown cells of one day (sorted) and how many are hidden."""
    hidden = {key for key, cell in cells.items() if _devices([cell]) < k}
    wholes: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)
    for key in cells:
        for whole in _wholes(key):
            wholes[whole].append(key)
    changed = bool(hidden)
    while changed:
        changed = False
        for members in wholes.values():
            gone = [m for m in members if m in hidden]
            if not gone or _devices(cells[m] for m in gone) >= k:
                continue
            shown = sorted(
                (cells[m].n, _devices([cells[m]]), repr(m), m) for m in members if m not in hidden
            )
            if shown:
                hidden.add(shown[0][3])
                changed = True
    shown_keys = sorted((key for key in cells if key not in hidden), key=repr)
    return [(key, cells[key].n) for key in shown_keys], len(hidden)


def log_row(day: str, key: tuple[Any, ...], n: int) -> dict[str, Any]:
    row: dict[str, Any] = {"day": day, **dict(zip(LOG_DIMS, key, strict=True)), "events": n}
    row["clauses"] = list(row["clauses"])
    row["may_apply"] = list(row["may_apply"])
    row["working_time"] = bool(row["working_time"])
    return row


def day_bounds(tz: ZoneInfo, first: date | None, last: date | None) -> tuple[str | None, ...]:
    """UTC times (store format) of the start of `first` and the end of `last`, local days."""

    def start_of(day: date) -> str:
        at = datetime.combine(day, time(0), tzinfo=tz).astimezone(ZoneInfo("UTC"))
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")

    return (
        start_of(first) if first else None,
        start_of(last + timedelta(days=1)) if last else None,
    )


@dataclass
class DayRelease:
    day: str
    rows: list[dict[str, Any]]
    """The shown cells of the day that pass the filter."""
    hidden: int
    """Hidden cells of the whole day (whatever the filter)."""
    skipped: int = 0
    """Shown cells left out at the front (they were on the page before)."""


async def released_days(
    parts: AsyncIterator[Sequence[Any]], tz: ZoneInfo, k: int, keep: Any
) -> AsyncGenerator[DayRelease, None]:
    """Rows of queries.cell_rows (time, *LOG_DIMS, sensor, device, n), in time order, become the
    released cells of each local day; `keep(row)` is the filter on the shown rows."""
    local: dict[str, str] = {}
    day: str | None = None
    cells: dict[tuple[Any, ...], _LogCell] = defaultdict(_LogCell)

    def flush(current: str) -> DayRelease:
        shown, hidden = release_day(cells, k)
        rows = [r for r in (log_row(current, key, n) for key, n in shown) if keep(r)]
        return DayRelease(current, rows, hidden)

    async for part in parts:
        for row in part:
            at = row[0]
            this = local.get(at)
            if this is None:
                this = datetime.fromisoformat(at).astimezone(tz).date().isoformat()
                if len(local) > 10_000:
                    local.clear()
                local[at] = this
            if this != day:
                if day is not None and cells:
                    yield flush(day)
                day, cells = this, defaultdict(_LogCell)
            key = tuple(row[1 : 1 + len(LOG_DIMS)])
            sensor, device, n = row[1 + len(LOG_DIMS) :]
            cell = cells[key]
            cell.n += int(n)
            if device:
                cell.devices[sensor].add(device)
    if day is not None and cells:
        yield flush(day)
