"""Queries on investigations (clause 4.3, four eyes): opened by the headteacher, countersigned by
a governor, closed by either. Each takes a connection; each step is written to the audit log in
the caller's transaction. Who may take a step is checked by the caller.

Testing one named device: the service holds no key, so it cannot compute a pseudonym. The
headteacher's request for a countersigned investigation becomes a *check*, published to the
sensors for `CHECK_HOURS`; each sensor computes that one device's pseudonym under its own key and
posts it back; the service counts that sensor's stored events carrying it and keeps the count
only (never the pseudonym). The headteacher sees the counts, never a list."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from service import audit
from service.db import events, investigation_answers, investigation_checks, investigations
from service.store import iso

CHECK_HOURS = 24
"""How long a check is published to the sensors (a proxy that is down a while still answers)."""


async def list_investigations(conn: AsyncConnection) -> list[Any]:
    """Newest first."""
    return list(await conn.execute(select(investigations).order_by(investigations.c.id.desc())))


async def get_investigation(conn: AsyncConnection, ident: int) -> Any:
    return (await conn.execute(select(investigations).where(investigations.c.id == ident))).first()


async def open_investigation(
    conn: AsyncConnection, *, reason: str, actor: str, now: datetime
) -> None:
    at = iso(now)
    await conn.execute(investigations.insert().values(opened_by=actor, opened_at=at, reason=reason))
    await audit.record(
        conn, at=at, actor=actor, action="investigation.open", detail={"reason": reason}
    )


async def countersign_investigation(
    conn: AsyncConnection, ident: int, *, actor: str, now: datetime
) -> None:
    at = iso(now)
    await conn.execute(
        update(investigations)
        .where(investigations.c.id == ident)
        .values(countersigned_by=actor, countersigned_at=at)
    )
    await audit.record(
        conn, at=at, actor=actor, action="investigation.countersign", detail={"id": ident}
    )


async def request_check(
    conn: AsyncConnection,
    ident: int,
    *,
    device: str,
    actor: str,
    now: datetime,
    sensor: str | None = None,
) -> int:
    """A check of one named device for investigation `ident` (countersigned and open: checked
    by the caller); audited. Returns the check's id. `sensor`: the one sensor it is for (a
    laptop's credential); None: every proxy."""
    at = iso(now)
    result = await conn.execute(
        investigation_checks.insert().values(
            investigation_id=ident,
            device=device,
            sensor=sensor,
            requested_by=actor,
            requested_at=at,
            expires_at=iso(now + timedelta(hours=CHECK_HOURS)),
        )
    )
    check_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    await audit.record(
        conn,
        at=at,
        actor=actor,
        action="investigation.test",
        detail={"id": ident, "check": check_id, "device": device, "sensor": sensor},
    )
    return check_id


def _published(now: datetime) -> Any:
    """Checks the sensors may see: unexpired, of an open and countersigned investigation."""
    return (
        select(
            investigation_checks.c.id,
            investigation_checks.c.investigation_id,
            investigation_checks.c.device,
            investigation_checks.c.requested_by,
            investigation_checks.c.requested_at,
            investigation_checks.c.expires_at,
            investigations.c.opened_by,
            investigations.c.countersigned_by,
        )
        .select_from(
            investigation_checks.join(
                investigations, investigations.c.id == investigation_checks.c.investigation_id
            )
        )
        .where(
            investigation_checks.c.expires_at > iso(now),
            investigations.c.closed_at.is_(None),
            investigations.c.countersigned_by.is_not(None),
            investigations.c.countersigned_by != investigations.c.opened_by,
        )
    )


def _for(sensor: Any) -> Any:
    """The checks `sensor` (its row) can answer: those naming it, and, for a proxy, those naming
    none (a proxy serves the device's address). A laptop's credential is reached only by name, so
    no device address goes to a credential that cannot answer for it."""
    named = investigation_checks.c.sensor == sensor.name
    if sensor.kind == "proxy":
        return or_(named, investigation_checks.c.sensor.is_(None))
    return named


async def checks_for_sensor(conn: AsyncConnection, sensor: Any, now: datetime) -> list[Any]:
    """The published checks this sensor (its row) can answer and has not answered yet, oldest
    first."""
    answered = select(investigation_answers.c.check_id).where(
        investigation_answers.c.sensor == sensor.name
    )
    query = _published(now).where(investigation_checks.c.id.not_in(answered), _for(sensor))
    return list(await conn.execute(query.order_by(investigation_checks.c.id)))


async def published_check(conn: AsyncConnection, check_id: int, sensor: Any, now: datetime) -> Any:
    """The check if it is published now to this sensor (its row), else None."""
    query = _published(now).where(investigation_checks.c.id == check_id, _for(sensor))
    return (await conn.execute(query)).first()


async def answer_check(
    conn: AsyncConnection,
    check: Any,
    *,
    sensor: str,
    device_pseudonym: str,
    now: datetime,
    one_device: bool = False,
) -> int | None:
    """Count `sensor`'s stored events carrying `device_pseudonym` (the check's device under that
    sensor's key) and keep the count, audited; the pseudonym itself is not kept. None when this
    sensor has answered already. `one_device`: the sensor is an enrolled laptop, whose events are
    stored under a daily tag (service.ingest.counting), and all of them are that laptop's."""
    mine = events.c.sensor == sensor
    query = (
        select(func.count())
        .select_from(events)
        .where(mine if one_device else and_(mine, events.c.device == device_pseudonym))
    )
    count = int((await conn.execute(query)).scalar_one())
    at = iso(now)
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stored = await conn.execute(
        insert(investigation_answers)
        .values(check_id=check.id, sensor=sensor, answered_at=at, matching_events=count)
        .on_conflict_do_nothing()
    )
    if stored.rowcount != 1:
        return None
    await audit.record(
        conn,
        at=at,
        actor=f"sensor:{sensor}",
        action="investigation.test.answer",
        detail={"id": check.investigation_id, "check": check.id, "matching_events": count},
    )
    return count


async def void_answer(
    conn: AsyncConnection, check_id: int, sensor: str, *, actor: str, now: datetime
) -> bool:
    """Void `sensor`'s answer to check `check_id` (it then counts for nothing), audited. False
    when there is no such answer not voided yet."""
    result = await conn.execute(
        update(investigation_answers)
        .where(
            investigation_answers.c.check_id == check_id,
            investigation_answers.c.sensor == sensor,
            investigation_answers.c.voided_by.is_(None),
        )
        .values(voided_by=actor)
    )
    if result.rowcount != 1:
        return False
    await audit.record(
        conn,
        at=iso(now),
        actor=actor,
        action="investigation.test.void",
        detail={"check": check_id, "sensor": sensor},
    )
    return True


async def checks_with_answers(conn: AsyncConnection) -> dict[int, list[dict[str, Any]]]:
    """Every check by investigation id, newest first, each with its answers (sensor, count)."""
    checks = list(
        await conn.execute(select(investigation_checks).order_by(investigation_checks.c.id.desc()))
    )
    answers: dict[int, list[Any]] = {}
    for row in await conn.execute(
        select(investigation_answers).order_by(investigation_answers.c.sensor)
    ):
        answers.setdefault(row.check_id, []).append(row)
    out: dict[int, list[dict[str, Any]]] = {}
    for check in checks:
        got = answers.get(check.id, [])
        out.setdefault(check.investigation_id, []).append(
            {
                "id": check.id,
                "device": check.device,
                "sensor": check.sensor,
                "requested_by": check.requested_by,
                "requested_at": check.requested_at,
                "expires_at": check.expires_at,
                "answers": [(a.sensor, a.matching_events) for a in got if not a.voided_by],
                "matching_events": sum(a.matching_events for a in got if not a.voided_by),
                "each": [
                    {"sensor": a.sensor, "events": a.matching_events, "voided_by": a.voided_by}
                    for a in got
                ],
            }
        )
    return out


async def close_investigation(
    conn: AsyncConnection, ident: int, *, actor: str, now: datetime
) -> None:
    at = iso(now)
    await conn.execute(
        update(investigations).where(investigations.c.id == ident).values(closed_at=at)
    )
    await audit.record(conn, at=at, actor=actor, action="investigation.close", detail={"id": ident})
