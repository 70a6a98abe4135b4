"""An event's clause ids are stored as a list (an array on PostgreSQL, a JSON array on SQLite),
read back as they were sent, and a store written before (one `,6.2,7,` string) migrates without
losing any event or clause. Real SQLite and real PostgreSQL, through the real migrations."""

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from policy.event import EVENT_FIELDS, Event
from service.db import alembic_config, clause_json, events, make_engine, migrate
from service.ingest import Rollup, store_events
from service.queries import cell_query
from tests.support.events import an_event

BEFORE = "0007"
"""The last revision that stored the clause ids as one string."""
OLD_ROWS = {
    "0" * 31 + "1": (",6.2,7,", ("6.2", "7")),
    "0" * 31 + "2": (",", ()),
    "0" * 31 + "3": (",123.4.56.7.890,", ("123.4.56.7.890",)),
    "0" * 31 + "4": (",7,6.2,", ("7", "6.2")),  # the order is the event's: most specific first
}


def _url(database_url: str | None, tmp_path: Path) -> str:
    return database_url or f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"


def _to(revision: str, downgrade: bool = False) -> object:
    def run(connection: Connection) -> None:
        move = command.downgrade if downgrade else command.upgrade
        move(alembic_config(connection), revision)

    return run


NEWER_FIELDS = ("may_apply",)
"""Event fields added by a revision after BEFORE (0012): a row from before has none of them."""
OLD_FIELDS = tuple(name for name in EVENT_FIELDS if name not in NEWER_FIELDS)


def _old_event(event_id: str, clauses: str) -> dict[str, object]:
    row = an_event(id=event_id, device="d" * 32).to_json()
    return {**{k: row[k] for k in OLD_FIELDS}, "clauses": clauses}


async def test_a_store_from_before_migrates_every_event_with_its_clauses(database_url, tmp_path):
    engine = make_engine(_url(database_url, tmp_path))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to(BEFORE))
            columns = ", ".join(OLD_FIELDS)
            values = ", ".join(f":{name}" for name in OLD_FIELDS)
            await conn.execute(
                text(f"INSERT INTO events ({columns}) VALUES ({values})"),  # noqa: S608
                [_old_event(i, stored) for i, (stored, _) in OLD_ROWS.items()],
            )
        await migrate(engine)
        async with engine.connect() as conn:
            found = dict((await conn.execute(select(events.c.id, events.c.clauses))).all())
        assert found == {i: clauses for i, (_, clauses) in OLD_ROWS.items()}

        # An event stored now with the same clause ids falls in the same cell of the log as the
        # migrated one: the migration wrote the list as the store writes it.
        again = Event.from_json(an_event(device="d" * 32, clauses=("6.2", "7")).to_json())
        async with engine.begin() as conn:
            assert (await store_events(conn, [again], Rollup(ZoneInfo("UTC"))))[0] == 1
        async with engine.connect() as conn:
            cells = (await conn.execute(cell_query(None, None, newest_first=False))).all()
        counts = {row.clauses: row[-1] for row in cells}
        assert counts == {("6.2", "7"): 2, (): 1, ("123.4.56.7.890",): 1, ("7", "6.2"): 1}

        # And back: the revision before reads its strings again.
        async with engine.begin() as conn:
            await conn.run_sync(_to(BEFORE, downgrade=True))
        async with engine.connect() as conn:
            rows = dict((await conn.execute(text("SELECT id, clauses FROM events"))).all())
        assert {i: rows[i] for i in OLD_ROWS} == {i: old for i, (old, _) in OLD_ROWS.items()}
        assert rows[again.id] == ",6.2,7,"
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "clauses", [(), ("8.1",), ("6.2", "7"), tuple(str(n) for n in range(1, 21))]
)
async def test_clause_ids_are_stored_and_read_back_as_sent(database_url, tmp_path, clauses):
    engine = make_engine(_url(database_url, tmp_path))
    try:
        await migrate(engine)
        event = Event.from_json(an_event(clauses=clauses).to_json())
        async with engine.begin() as conn:
            await store_events(conn, [event], Rollup(ZoneInfo("Europe/London")))
        async with engine.connect() as conn:
            stored = (await conn.execute(select(events.c.clauses))).scalar_one()
        assert stored == clauses
    finally:
        await engine.dispose()


BEFORE_MAY_APPLY = "0011"
"""The last revision without `may_apply` (every clause an event named was under `clauses`)."""


async def test_a_store_from_before_may_apply_keeps_its_events_with_none_that_may_apply(
    database_url, tmp_path
):
    engine = make_engine(_url(database_url, tmp_path))
    old = an_event(device="d" * 32, action="message", clauses=("8.1", "7")).to_json()
    del old["may_apply"]
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to(BEFORE_MAY_APPLY))
            postgres = conn.dialect.name == "postgresql"
            row = {**old, "clauses": old["clauses"] if postgres else clause_json(old["clauses"])}
            columns = ", ".join(row)
            values = ", ".join(f":{name}" for name in row)
            await conn.execute(text(f"INSERT INTO events ({columns}) VALUES ({values})"), row)  # noqa: S608
        await migrate(engine)
        now = Event.from_json(
            an_event(
                device="d" * 32, action="message", clauses=("7",), may_apply=("8.1",)
            ).to_json()
        )
        async with engine.begin() as conn:
            assert (await store_events(conn, [now], Rollup(ZoneInfo("UTC"))))[0] == 1
        async with engine.connect() as conn:
            found = {
                r.id: (r.clauses, r.may_apply)
                for r in await conn.execute(
                    select(events.c.id, events.c.clauses, events.c.may_apply)
                )
            }
        # The event from before says what its sensor said; the one from now tells them apart.
        assert found == {old["id"]: (("8.1", "7"), ()), now.id: (("7",), ("8.1",))}

        async with engine.begin() as conn:
            await conn.run_sync(_to(BEFORE_MAY_APPLY, downgrade=True))
        async with engine.connect() as conn:
            ids = {r[0] for r in await conn.execute(text("SELECT id FROM events"))}
        assert ids == {old["id"], now.id}
    finally:
        await engine.dispose()
