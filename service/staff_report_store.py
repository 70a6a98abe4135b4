"""The reports staff send (clauses 8.1, 8.4, 10.2, 11.3.7 to the Headteacher; 5.3, 12.3 to their
line manager or the senior team): their store.

A member of staff writes what happened, their own name and how to reach them, and chooses who
receives it, on a form of the proxy (or the extension), which relays it with its sensor token. This
is the one place a name enters ClauseWarden, by the staff member's choice. The reports are kept in
their own table, never joined to the events, the rollups, the exports or the dashboard. Each
report is read only by its recipient: the Headteacher's by the headteacher role, any other's by
the one account a headteacher chose for that recipient (`report_readers`); each read is in the
audit log, which names the reference and the recipient and never the text. Retention deletes them
after their own period (`report_retention_days`, default 365).

Nothing kept with a report can pick out the device it came from: it keeps the day it came (the
school's date), never the time, the sensor that relayed it or the platform the form offered,
and its audit entry carries the day and no sensor. With a time, a sensor and a platform, a copy of
the database matched a report (and so a name) to the one device whose events fell in that slot.
"""

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from policy.staff_report import HEADTEACHER, StaffReport
from service import audit, settings_store, store
from service.db import report_readers, settings, staff_reports, users

RETENTION_KEY = "report_retention_days"
DEFAULT_RETENTION_DAYS = 365
MAX_RETENTION_DAYS = 3650

REPORT_ACTOR = "staff report form"
"""The audit log's actor for a report that came: no sensor named (it would point at a device)."""

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


def new_reference() -> str:
    """`CW-XXXX-XXXX`: 40 random bits, unambiguous letters and digits."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"CW-{chars[:4]}-{chars[4:]}"


async def add_report(
    conn: AsyncConnection, report: StaffReport, *, email_status: str, day: date
) -> str:
    """Keep a report (with the day it came, nothing finer); its reference. The audit log says a
    report came that day and its reference: never its text, name, sensor or time."""
    for _ in range(5):
        reference = new_reference()
        taken = (
            await conn.execute(
                select(staff_reports.c.id).where(staff_reports.c.reference == reference)
            )
        ).first()
        if taken is None:
            break
    else:  # pragma: no cover - 40 bits
        raise RuntimeError("no free reference")
    await conn.execute(
        staff_reports.insert().values(
            reference=reference,
            received_on=day.isoformat(),
            kind=report.kind,
            recipient=report.to,
            what_happened=report.what_happened,
            name=report.name,
            contact=report.contact,
            email_status=email_status,
        )
    )
    await audit.record(
        conn,
        at=day.isoformat(),
        actor=REPORT_ACTOR,
        action="staff_report.received",
        detail={"reference": reference, "to": report.to},
    )
    return reference


async def note_email(
    conn: AsyncConnection, reference: str, status: str, detail: str | None
) -> None:
    await conn.execute(
        update(staff_reports)
        .where(staff_reports.c.reference == reference)
        .values(email_status=status, email_detail=(detail or None) and detail[:200])
    )


async def readable_by(conn: AsyncConnection, user: Any) -> set[str]:
    """The recipients whose reports `user` (a logged-in, active account) reads: the Headteacher's
    for the headteacher role, and each recipient a headteacher chose them for."""
    chosen = await conn.execute(
        select(report_readers.c.recipient).where(report_readers.c.user_name == user.name)
    )
    mine = {row.recipient for row in chosen}
    return mine | {HEADTEACHER} if user.role == "headteacher" else mine


async def readers(conn: AsyncConnection) -> dict[str, str]:
    """Recipient id -> the account reading its reports (the Headteacher's: the headteacher role)."""
    rows = await conn.execute(select(report_readers.c.recipient, report_readers.c.user_name))
    return {row.recipient: row.user_name for row in rows}


async def choose_reader(
    conn: AsyncConnection, recipient: str, user_name: str | None, *, actor: str, now: datetime
) -> None:
    """A headteacher chooses (or with None removes) the account reading `recipient`'s reports;
    the account must exist and not be disabled. In the audit log."""
    if user_name is not None:
        row = (await conn.execute(select(users).where(users.c.name == user_name))).first()
        if row is None or row.disabled:
            raise store.StoreError(f"no active user called {user_name!r}")
    await conn.execute(delete(report_readers).where(report_readers.c.recipient == recipient))
    if user_name is not None:
        await conn.execute(
            report_readers.insert().values(
                recipient=recipient, user_name=user_name, chosen_by=actor, chosen_at=store.iso(now)
            )
        )
    await audit.record(
        conn,
        at=store.iso(now),
        actor=actor,
        action="staff_report.reader",
        detail={"recipient": recipient, "reader": user_name},
    )


async def inbox(conn: AsyncConnection, recipients: set[str]) -> list[Any]:
    """The list of the reports sent to `recipients`: reference, the day it came, kind, recipient,
    the email's fate, read or not (no text or name: the list itself reads nothing)."""
    c = staff_reports.c
    rows = await conn.execute(
        select(
            c.reference,
            c.received_on,
            c.kind,
            c.recipient,
            c.email_status,
            c.email_detail,
            c.first_read_at,
        )
        .where(c.recipient.in_(sorted(recipients)))
        .order_by(c.received_on.desc(), c.id.desc())
    )
    return list(rows)


async def read_report(
    conn: AsyncConnection, reference: str, *, reader: str, recipients: set[str], now: datetime
) -> Any | None:
    """One report, whole, if it was sent to one of `recipients` (the reader's); the read is
    written to the audit log. Another recipient's report is as if it did not exist."""
    row = (
        await conn.execute(
            select(staff_reports).where(
                staff_reports.c.reference == reference,
                staff_reports.c.recipient.in_(sorted(recipients)),
            )
        )
    ).first()
    if row is None:
        return None
    at = store.iso(now)
    if row.first_read_at is None:
        await conn.execute(
            update(staff_reports).where(staff_reports.c.id == row.id).values(first_read_at=at)
        )
    await audit.record(
        conn,
        at=at,
        actor=reader,
        action="staff_report.read",
        detail={"reference": reference, "to": row.recipient},
    )
    return row


async def delete_report(
    conn: AsyncConnection, reference: str, *, actor: str, recipients: set[str], now: datetime
) -> bool:
    gone = (
        await conn.execute(
            delete(staff_reports).where(
                staff_reports.c.reference == reference,
                staff_reports.c.recipient.in_(sorted(recipients)),
            )
        )
    ).rowcount
    if gone:
        await audit.record(
            conn,
            at=store.iso(now),
            actor=actor,
            action="staff_report.delete",
            detail={"reference": reference},
        )
    return bool(gone)


async def retention_days(conn: AsyncConnection) -> int:
    row = (
        await conn.execute(select(settings.c.value).where(settings.c.key == RETENTION_KEY))
    ).first()
    try:
        days = int(row[0]) if row else DEFAULT_RETENTION_DAYS
    except ValueError:
        days = DEFAULT_RETENTION_DAYS
    return days if 1 <= days <= MAX_RETENTION_DAYS else DEFAULT_RETENTION_DAYS


async def set_retention_days(
    conn: AsyncConnection, days: int, *, actor: str, now: datetime
) -> None:
    await settings_store.save_settings(
        conn,
        {RETENTION_KEY: days},
        action="staff_report.retention",
        actor=actor,
        now=now,
    )


async def expire(conn: AsyncConnection, now: datetime) -> int:
    """Delete the reports older than their retention period (the retention job); how many."""
    days = await retention_days(conn)
    cutoff = (now - timedelta(days=days)).date().isoformat()
    return int(
        (
            await conn.execute(delete(staff_reports).where(staff_reports.c.received_on < cutoff))
        ).rowcount
        or 0
    )
