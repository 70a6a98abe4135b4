"""The Event schema's `time` pattern (policy.event.REAL_UTC_TIME) takes exactly the times ingest
takes: the form of policy.ids.UTC_TIME and a real date and time (policy.event.real_time)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from policy import ids
from policy.event import EVENT_SCHEMA, REAL_UTC_TIME, event_problems, real_time
from tests.support.events import an_event


def _ingest_takes(value: str) -> bool:
    return ids.UTC_TIME.fullmatch(value) is not None and real_time(value)


def test_every_day_of_every_month_of_years_leap_and_not_agrees():
    for year in (1, 4, 100, 400, 1900, 2000, 2023, 2024, 2100, 9999):
        for month in range(100):
            for day in range(100):
                value = f"{year:04d}-{month:02d}-{day:02d}T12:00:00Z"
                assert (REAL_UTC_TIME.fullmatch(value) is not None) == _ingest_takes(value), value


def test_the_29th_of_february_of_every_year_and_year_zero_agree():
    for year in range(10000):
        for day in ("02-29", "01-01"):
            value = f"{year:04d}-{day}T00:00:00Z"
            assert (REAL_UTC_TIME.fullmatch(value) is not None) == _ingest_takes(value), value


def test_every_time_of_day_agrees():
    for hour in range(100):
        for minute in range(100):
            value = f"2026-11-25T{hour:02d}:{minute:02d}:{minute:02d}Z"
            assert (REAL_UTC_TIME.fullmatch(value) is not None) == _ingest_takes(value), value


@settings(max_examples=500)
@given(st.from_regex(ids.UTC_TIME, fullmatch=True))
def test_any_time_of_the_form_agrees(value):
    assert (REAL_UTC_TIME.fullmatch(value) is not None) == _ingest_takes(value)


def test_the_event_schema_says_it_and_ingest_refuses_what_it_refuses():
    assert EVENT_SCHEMA["properties"]["time"]["pattern"] == REAL_UTC_TIME.pattern
    impossible = an_event(time="2034-20-75T35:94:54Z").to_json()
    assert ("time", "not a real date and time") in event_problems(impossible)
