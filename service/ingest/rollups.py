"""The daily rollups: each stored event adds to counts per local day and breakdown, and its device
to that figure's distinct devices, so the dashboard reads counts only and never aggregates events
or devices. Only what a dashboard figure reads is written (`FIGURE_DIMS`). The event of a choice
made after a warning (went back, continued) adds to the response only: one warning is counted
once, whatever the member of staff did next."""

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

FIGURE_DIMS = ("all", "platform", "outcome", "hour", "response", "clause", "clause_may")
"""The breakdowns the dashboard's figures read, each counted in events and distinct devices: the
day (its total and devices), platform, outcome, weekday-hour, a warning's response (went back,
continued), a clause that applies, a clause that only may apply (`may_apply`)."""


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
        if row["response"] != "none":
            # What the member of staff chose after a warning (went back, continued) is its own
            # event, but not a second warning: it counts only as that warning's response.
            return [(day, "response", row["response"])]
        keys = [
            (day, "all", ""),
            (day, "platform", row["platform"]),
            (day, "outcome", row["outcome"]),
            (day, "hour", hour),
        ]
        for clause in row["clauses"]:
            if clause:
                keys.append((day, "clause", clause))
        for clause in row["may_apply"]:
            keys.append((day, "clause_may", clause))
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
                devices.update((d, dim, val, device) for d, dim, val in keys)
        count_rows = [{"day": d, "dim": m, "value": v, "n": n} for (d, m, v), n in counts.items()]
        empty: set[tuple[str, str, str]] = set()
        device_rows = [
            {"day": d, "dim": m, "value": v, "device": x}
            for d, m, v, x in devices
            if (m, v, x) not in self._seen.get(d, empty)
        ]
        return count_rows, device_rows
