"""The event contract is policy.event: the shared vectors, the service's ingest, the store's table
(and its migrations) and the docs' field table all agree with it (the OpenAPI document is run
against a live service in tests/service/test_openapi_live.py).
Also the sensor name (policy.ids) and the bundle's privacy part (policy.bundle)."""

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policy import ids
from policy.event import (
    ADDED_FIELDS,
    EVENT_FIELDS,
    EVENT_SPECS,
    Event,
    FieldSpec,
    event_problems,
)
from policy.privacy import check_privacy, privacy_part, with_privacy
from service.db import events, make_engine, migrate
from service.ingest import check_batch

ROOT = Path(__file__).resolve().parents[1]
VECTORS = json.loads((ROOT / "tests/vectors/events.json").read_text())
CONTEXT = VECTORS["context"]
CASES = VECTORS["cases"]


def _ingest(event: object) -> tuple[list[dict], list[dict]]:
    rows, _status, problems = check_batch(
        {"events": [event]},
        sensor=CONTEXT["sensor"],
        now=datetime.fromisoformat(CONTEXT["now"]),
        retention_days=CONTEXT["retention_days"],
    )
    return rows, problems


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_ingest_refuses_exactly_the_invalid_vectors_naming_the_field_and_reason(case):
    rows, problems = _ingest(case["event"])
    if case["valid"]:
        assert problems == [] and len(rows) == 1
    else:
        assert rows == []
        assert [(p["field"], p["message"]) for p in problems] == [(case["field"], case["reason"])]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_event_model_accepts_exactly_the_valid_vectors(case):
    if case["valid"] or case.get("ingest_only"):
        assert event_problems(case["event"]) == []
        assert Event.from_json(case["event"]).to_json() == case["event"]
    else:
        assert event_problems(case["event"]) == [(case["field"], case["reason"])]
        with pytest.raises(ValueError, match=case["field"] or "event"):
            Event.from_json(case["event"])


def test_vectors_cover_every_field_valid_and_invalid():
    faulted = {c["field"] for c in CASES if not c["valid"]}
    assert set(EVENT_FIELDS) <= faulted
    assert all(set(c["event"]) == set(EVENT_FIELDS) for c in CASES if c["valid"])


@pytest.mark.parametrize("case", VECTORS["older_sensors"], ids=lambda c: c["name"])
def test_an_older_sensors_event_is_stored_with_the_added_fields_default(case):
    # Without some added field (the newest, at least), with every field from before them.
    assert set(EVENT_FIELDS) - set(ADDED_FIELDS) <= set(case["event"]) < set(EVENT_FIELDS)
    rows, problems = _ingest(case["event"])
    assert problems == [] and rows[0].held is case["stored_held"]
    assert rows[0].may_apply == tuple(case["stored_may_apply"])
    model = Event.from_json(case["event"])
    assert model.held is case["stored_held"]
    assert model.to_json()["may_apply"] == case["stored_may_apply"]


def test_every_added_field_is_left_out_by_some_older_sensors_vector():
    left_out = set().union(*(set(EVENT_FIELDS) - set(c["event"]) for c in VECTORS["older_sensors"]))
    assert left_out == set(ADDED_FIELDS)


def test_every_id_field_takes_its_pattern_from_policy_ids():
    known = set(ids.PATTERNS.values())
    assert all(s.pattern in known for s in EVENT_SPECS if s.pattern is not None)
    assert all(s.pattern is not None or s.enum or s.json_type == "boolean" for s in EVENT_SPECS)


def test_every_closed_word_fits_its_column():
    for spec in EVENT_SPECS:
        assert all(len(word) <= spec.max_length for word in spec.enum), spec.name


def _column(spec: FieldSpec) -> tuple[str, str, bool, bool]:
    # A list (the clause ids) is a JSON array in SQLite's TEXT (an array on PostgreSQL).
    kinds = {"boolean": "BOOLEAN", "array": "TEXT"}
    kind = kinds.get(spec.json_type, f"VARCHAR({spec.max_length})")
    return spec.name, kind, spec.nullable, spec.name == "id"


def test_the_events_table_has_one_column_per_event_field():
    columns = [(c.name, str(c.type), c.nullable, c.primary_key) for c in events.columns]
    assert columns == [_column(s) for s in EVENT_SPECS]


async def test_the_migrations_make_the_events_table_the_event_model_needs(tmp_path):
    # A field added to the Event needs a migration: the migrated table is compared, not the model.
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    with sqlite3.connect(tmp_path / "store.db") as db:
        info = db.execute("PRAGMA table_info(events)").fetchall()
    columns = [(name, kind, not notnull, bool(pk)) for _cid, name, kind, notnull, _d, pk in info]
    assert columns == [_column(s) for s in EVENT_SPECS]


def _type(spec: FieldSpec) -> str:
    if spec.enum:
        text = ", ".join(spec.enum)
    elif spec.json_type == "boolean":
        text = "true or false"
    elif spec.json_type == "array":
        text = f"list of at most {spec.max_items} strings `{spec.pattern.pattern}`"
    else:
        text = f"string `{spec.pattern.pattern}`"
    return f"{text}, or null" if spec.nullable else text


def field_table() -> str:
    rows = [f"| `{s.name}` | {_type(s)} | {s.doc} |" for s in EVENT_SPECS]
    return "\n".join(["| field | type | meaning |", "| --- | --- | --- |", *rows])


def test_the_docs_field_table_is_the_models():
    doc = (ROOT / "docs/sensor-api.md").read_text()
    assert field_table() in doc, "docs/sensor-api.md's event table should read:\n" + field_table()


# The other contracts the sensors share with the service ------------------------------------


@pytest.mark.parametrize(
    ("name", "ok"),
    [("proxy1", True), ("Office-Proxy_2", True), ("proxy.1", False), ("-proxy", False),
     ("café", False), ("p" * 64, True), ("p" * 65, False), ("proxy\n", False)],
)  # fmt: skip
async def test_the_store_registers_exactly_the_sensor_names_the_proxy_accepts(tmp_path, name, ok):
    from service import audit, sensor_store, store

    assert (ids.SENSOR_NAME.fullmatch(name) is not None) == ok
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    try:
        await migrate(engine)
        await audit.attach(engine, tmp_path)  # adding a sensor is audited under the chain's key
        async with engine.begin() as conn:
            if ok:
                assert await sensor_store.add_sensor(
                    conn, name, actor="test", now=datetime.now(UTC)
                )
            else:
                with pytest.raises(store.StoreError, match="sensor name"):
                    await sensor_store.add_sensor(conn, name, actor="test", now=datetime.now(UTC))
    finally:
        await engine.dispose()


def test_the_bundles_privacy_part_carries_the_level_and_never_a_salt_or_key():
    salt, key = "ab" * 32, "cd" * 32
    for level in ("daily", "stable", "none"):
        assert privacy_part(level) == {"level": level}
    for bad in (
        {"level": "daily", "salt": salt, "salt_date": "2026-11-25"},  # each sensor keeps its own
        {"level": "stable", "key": key},  # the key stays on the proxy
        {"level": "none", "key": key},
        {"level": "weekly"},
    ):
        with pytest.raises(ValueError, match="privacy"):
            check_privacy(bad)
    assert with_privacy({"version": "v"}, privacy_part("none")) == {
        "version": "v",
        "privacy": {"level": "none"},
    }
