"""One batch limit, one status: more than MAX_EVENTS events is "too large", refused whole with
413 like a body over MAX_BYTES, whoever checks the batch (the API or a command loading events)."""

from datetime import UTC, datetime

import pytest

from service.ingest import MAX_EVENTS, TooLarge, check_batch
from tests.support.service import add_sensor, bearer, event


def test_a_batch_over_the_limit_is_too_large_not_a_problem_of_its_events():
    body = {"events": [event() for _ in range(MAX_EVENTS + 1)]}
    with pytest.raises(TooLarge, match=f"at most {MAX_EVENTS} events"):
        check_batch(
            body, sensor="proxy1", now=datetime(2026, 11, 25, 10, tzinfo=UTC), retention_days=90
        )
    checked, _status, problems = check_batch(
        {"events": body["events"][:MAX_EVENTS]},
        sensor="proxy1",
        now=datetime(2026, 11, 25, 10, tzinfo=UTC),
        retention_days=90,
    )
    assert problems == [] and len(checked) == MAX_EVENTS


async def test_the_api_answers_a_batch_over_the_limit_413_naming_the_limit(cli):
    token = await add_sensor(cli)
    body = {"events": [event() for _ in range(MAX_EVENTS + 1)], "sensor_status": None}
    resp = await cli.post("/api/v1/events", json=body, headers=bearer(token))
    assert resp.status == 413
    assert await resp.json() == {"error": f"a batch is at most {MAX_EVENTS} events"}
