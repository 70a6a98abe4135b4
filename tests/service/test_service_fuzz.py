"""Property-based fuzzing of the ingest API and the login form: never a 5xx, and never a row
stored from a refused batch."""

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from policy.event import Event, with_added_fields
from service.db import events
from service.ingest import FIELDS
from service.keys import ENGINE
from tests.support.service import add_sensor, add_user, bearer, csrf_from, event

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def mutated_event(draw: st.DrawFn) -> dict:
    ev = event()
    kind = draw(st.sampled_from(["valid", "replace", "drop", "extra"]))
    if kind == "replace":
        ev[draw(st.sampled_from(FIELDS))] = draw(json_values)
    elif kind == "drop":
        del ev[draw(st.sampled_from(FIELDS))]
    elif kind == "extra":
        ev[draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in FIELDS))] = draw(
            json_values
        )
    return ev


bodies = st.one_of(
    st.builds(lambda evs: {"events": evs}, st.lists(mutated_event(), min_size=1, max_size=6)),
    json_values,
    st.builds(
        lambda evs, status: {"events": evs, "sensor_status": status},
        st.lists(mutated_event(), max_size=2),
        json_values,
    ),
)

FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def _fuzzed_sensor(cli) -> str:
    """One sensor for every example, without the per-sensor rate limit (tested on its own in
    tests/security/test_ingest.py): these tests are about what the validator accepts."""
    if not hasattr(cli, "_token"):
        from service.ingest import RateLimit
        from service.keys import SERVICES

        cli._token = await add_sensor(cli, "proxy1")
        cli.server.app[SERVICES].sensor_limits.events = RateLimit(burst=1e12, per_second=1e12)
    return cli._token


async def _count(cli) -> int:
    async with cli.server.app[ENGINE].connect() as conn:
        return (await conn.execute(select(func.count()).select_from(events))).scalar_one()


@FUZZ
@given(body=bodies)
async def test_ingest_never_fails_with_5xx_and_a_refused_batch_stores_nothing(cli, body):
    token = await _fuzzed_sensor(cli)
    before = await _count(cli)
    resp = await cli.post("/api/v1/events", data=orjson.dumps(body), headers=bearer(token))
    assert resp.status < 500
    after = await _count(cli)
    if resp.status == 202:
        result = await resp.json()
        assert after - before == result["stored"]
    else:
        assert resp.status in (400, 413)
        assert after == before


@FUZZ
@given(raw=st.binary(max_size=200))
async def test_ingest_survives_arbitrary_bytes(cli, raw):
    token = await _fuzzed_sensor(cli)
    resp = await cli.post("/api/v1/events", data=raw, headers=bearer(token))
    assert resp.status in (400, 202)
    assert await _count(cli) == 0 or resp.status == 202


@FUZZ
@given(
    name=st.text(max_size=80),
    password=st.text(max_size=200),
    extra=st.dictionaries(
        st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.text(max_size=20), max_size=3
    ),
)
async def test_login_form_never_fails_with_5xx(cli, name, password, extra):
    if not hasattr(cli, "_user"):
        await add_user(cli, "alice", "admin")
        cli._user = True
    token = csrf_from(await (await cli.get("/login")).text())
    data = {**extra, "name": name, "password": password, "csrf_token": token}
    resp = await cli.post("/login", data=data, allow_redirects=False)
    assert resp.status in (303, 401, 429)
    assert resp.status != 303  # no random guess gets in


@settings(max_examples=400, deadline=None)
@given(ev=mutated_event())
def test_ingest_accepts_exactly_the_events_the_event_model_accepts(ev):
    # One validator, derived from policy.event: ingest adds only the token's sensor and the
    # retention window, so it and Event.from_json agree on every event.
    from service.ingest import Problems, check_event

    bounds = {"oldest": "2026-08-27T00:00:00Z", "newest": "2026-11-26T10:00:00Z"}
    problems = Problems()
    row = check_event(0, ev, sensor="proxy1", problems=problems, **bounds)
    try:
        model = Event.from_json(ev)
    except ValueError:
        model = None
    assert (row is None) == bool(problems)
    in_context = (
        model is not None
        and model.sensor == "proxy1"
        and bounds["oldest"] <= model.time <= bounds["newest"]
    )
    assert (row is not None) == in_context
    if model is not None:
        assert model.to_json() == with_added_fields(ev)  # a field left out takes its default
