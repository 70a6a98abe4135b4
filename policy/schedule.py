"""Working time, from the schedule in the school's own time zone (correct across clock changes)."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class WorkingTime:
    """Answers 'is this instant working time?' from the bundle's schedule section."""

    def __init__(
        self,
        time_zone: str,
        hours: Mapping[str, Sequence[tuple[time, time]]],
        terms: Iterable[tuple[date, date]],
        closed_days: Iterable[date],
        inset_days: Iterable[date],
    ) -> None:
        self.zone = ZoneInfo(time_zone)
        self._hours = tuple(tuple(hours.get(day, ())) for day in WEEKDAY_NAMES)
        self._terms = tuple(sorted(terms))
        self._closed = frozenset(closed_days)
        self._inset = frozenset(inset_days)
        self._last_minute: tuple[int, bool] = (-1, False)

    def local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError("the time of a request must carry its UTC offset")
        return at.astimezone(self.zone)

    def is_working_day(self, day: date) -> bool:
        if day in self._closed:
            return False
        if day in self._inset:
            return True
        return any(start <= day <= end for start, end in self._terms)

    def __call__(self, at: datetime) -> bool:
        # Every boundary is on a whole minute, and most requests arrive in the same minute as
        # the last one: remembering one minute's answer saves the time zone conversion.
        if at.tzinfo is None:
            raise ValueError("the time of a request must carry its UTC offset")
        minute = int(at.timestamp() // 60)
        last_minute, last_answer = self._last_minute
        if minute == last_minute:
            return last_answer
        answer = self._compute(at)
        self._last_minute = (minute, answer)
        return answer

    def _compute(self, at: datetime) -> bool:
        local = self.local(at)
        day = local.date()
        ranges = self._hours[day.weekday()]
        if not ranges or not self.is_working_day(day):
            return False
        now = local.time()
        return any(start <= now < end for start, end in ranges)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def parse_hhmm(text: str) -> time:
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))
