"""Telling the Headteacher (clauses 8.1, 8.4, 10.2, 11.3.7), or a line manager or the senior team
(5.3, 12.3): the sensors' endpoint and the inboxes.

- `POST /api/v1/staff-reports` (a sensor's token): a report a member of staff wrote on the proxy's
  form or the extension's. Kept in its own table with the day it came, never the time, the sensor
  or the platform the form offered (service.staff_report_store says why); answered 201 with its
  reference at once; the
  email to its recipient goes in a task of its own. A recipient id that is not one of the school's
  (settings.yaml `report_recipients`, and the Headteacher), or one that does not receive that kind
  of report, is refused with a field error on `to`. Per-credential rate limit (each enrolled
  laptop its own; only reports that would be kept count; a credential's first report of the day is
  never refused), 16 kB at most, 400 on any unknown field or wrong type.
- `/staff-reports`: each reader's own inbox, a list without text or names, of the reports sent
  to the recipients they read for (the Headteacher's: the headteacher role; any other: the account
  a headteacher chose for it); opening a report shows it whole and writes the read to the audit
  log; another recipient's report is "no such report". The headteacher alone sets the reports'
  retention period and chooses each recipient's reader.
"""

import re
import time
from typing import Any

import aiohttp_jinja2
import orjson
from aiohttp import web

from policy.staff_report import (
    HEADTEACHER,
    KINDS,
    MAX_BODY_BYTES,
    Recipient,
    check_report,
    receivers,
    recipients,
)
from service import staff_report_store as figures
from service import user_store
from service.api_models import StaffReportReceipt
from service.keys import ENGINE, SERVICES
from service.mailer import MAILER
from service.store import StoreError
from service.views.common import ANY_ROLE, now, posted, refuse, require, today
from service.views.jsonapi import json_error, json_response
from service.views.sensor_auth import authenticate_sensor, hold_to

MAX_BODY = MAX_BODY_BYTES
REFERENCE = re.compile(r"^CW-[A-Z0-9]{4}-[A-Z0-9]{4}$")


def _configured(request: web.Request) -> Any:
    return request.app[SERVICES].school.settings.settings.report_recipients


def _offered(request: web.Request) -> tuple[Recipient, ...]:
    return recipients(_configured(request))


def _addresses(request: web.Request, recipient: str) -> tuple[str, ...]:
    """Where a recipient's email goes: the Headteacher's CLAUSEWARDEN_SMTP_TO, any other's own."""
    smtp = request.app[MAILER].smtp
    if recipient == HEADTEACHER:
        return smtp.to if smtp else ()
    return next((tuple(r.email) for r in _configured(request) if r.id == recipient), ())


def _within_limit(request: web.Request, sensor: Any) -> None:
    """429 past the credential's limit, except for its first report of the day, never refused
    (a safeguarding report must not wait behind what others sent): each enrolled laptop has its
    own credential, so one laptop cannot use up another's limit."""
    services = request.app[SERVICES]
    # A proxy's one credential speaks for every device behind it; the proxy limits each device.
    proxy = getattr(sensor, "kind", "proxy") == "proxy"
    limits = (
        services.sensor_limits.proxy_staff_reports
        if proxy
        else services.sensor_limits.staff_reports
    )
    day = today(request)
    first = services.reported_on.get(sensor.id) != day
    if first:
        if len(services.reported_on) > 100_000:
            services.reported_on.clear()
        services.reported_on[sensor.id] = day
        limits.take(sensor.id, time.monotonic())
        return
    hold_to(limits, sensor, "reports")


async def _body(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise json_error(413, f"a report is at most {MAX_BODY // 1024} kB")
    raw = bytearray()
    async for chunk in request.content.iter_chunked(8192):
        raw += chunk
        if len(raw) > MAX_BODY:
            raise json_error(413, f"a report is at most {MAX_BODY // 1024} kB")
    try:
        return orjson.loads(bytes(raw))
    except orjson.JSONDecodeError:
        raise json_error(400, "the body is not valid JSON") from None


async def post_report(request: web.Request) -> web.Response:
    sensor = await authenticate_sensor(request)  # a known sensor; which one is not kept
    services = request.app[SERVICES]
    body = await _body(request)
    platforms = {p.id for p in services.school.platforms.platforms}
    report, problems = check_report(body, platforms, receivers(_configured(request)))
    if report is None:
        raise json_error(400, "the report was refused; nothing was kept", problems=problems)
    _within_limit(request, sensor)  # only a report that would be kept counts
    mailer = request.app[MAILER]
    day = today(request)
    to = _addresses(request, report.to) if mailer.enabled else ()
    async with services.write_lock, request.app[ENGINE].begin() as conn:
        reference = await figures.add_report(
            conn, report, email_status="sending" if to else "off", day=day
        )
    if to:
        app = request.app
        mailer.spawn(lambda: _email(app, reference, report, day.isoformat(), to))
    return json_response(
        StaffReportReceipt(reference=reference, received_on=day).to_json(),
        status=201,
        headers={"Cache-Control": "no-store"},
    )


async def _email(
    app: web.Application, reference: str, report: Any, day: str, to: tuple[str, ...]
) -> None:
    mailer = app[MAILER]
    smtp = mailer.smtp
    if smtp is None:
        return
    lines = [
        "A member of staff has sent you a report through ClauseWarden.",
        "",
        f"Reference: {reference}",
        f"Received on: {day}",
        f"About: {KINDS[report.kind]}",
        "",
    ]
    if smtp.include_report:
        lines += [
            f"From: {report.name}",
            f"How to reach them: {report.contact}",
            "",
            "What happened:",
            report.what_happened,
            "",
        ]
    else:
        lines += [
            "Read it in ClauseWarden's inbox for staff reports (only you can open it; every "
            "read is in the audit log):",
        ]
    if smtp.link:
        lines.append(f"{smtp.link}/staff-reports/{reference}")
    subject = f"ClauseWarden: a report from a member of staff ({reference})"
    why = await mailer.send(subject, "\n".join(lines) + "\n", to=to)
    async with app[SERVICES].write_lock, app[ENGINE].begin() as conn:
        await figures.note_email(conn, reference, "failed" if why else "sent", why)


MESSAGES = {
    "retention": "The reports' retention period is saved.",
    "deleted": "The report is deleted.",
    "reader": "The reader is saved.",
}


async def _reader(request: web.Request) -> tuple[Any, set[str]]:
    """The logged-in user and the recipients they read for; 403 if none."""
    user = await require(request, *ANY_ROLE)
    async with request.app[ENGINE].connect() as conn:
        mine = await figures.readable_by(conn, user)
    if not mine:
        raise web.HTTPForbidden(text="No reports are sent to you.")
    return user, mine


@aiohttp_jinja2.template("staff_reports.html")
async def inbox(request: web.Request) -> dict[str, Any]:
    user, mine = await _reader(request)
    head = user.role == HEADTEACHER
    offered = _offered(request)
    async with request.app[ENGINE].connect() as conn:
        rows = await figures.inbox(conn, mine)
        days = await figures.retention_days(conn)
        chosen = await figures.readers(conn) if head else {}
        people = await user_store.list_users(conn) if head else []
    return {
        "page": "staff-reports",
        "reports": rows,
        "kinds": KINDS,
        "labels": {r.id: r.label for r in offered},
        "mine": [r for r in offered if r.id in mine],
        "head": head,
        "others": [r for r in offered if r.id != HEADTEACHER],
        "chosen": chosen,
        "people": [u.name for u in people if not u.disabled],
        "retention_days": days,
        "max_days": figures.MAX_RETENTION_DAYS,
        "mail_on": request.app[MAILER].enabled,
        "message": MESSAGES.get(request.query.get("message", "")),
    }


async def read(request: web.Request) -> web.StreamResponse:
    user, mine = await _reader(request)
    reference = request.match_info["reference"]
    if not REFERENCE.fullmatch(reference):
        raise web.HTTPNotFound(text="No such report.")
    async with request.app[SERVICES].write_lock, request.app[ENGINE].begin() as conn:
        row = await figures.read_report(
            conn, reference, reader=user.name, recipients=mine, now=now(request)
        )
    if row is None:
        raise web.HTTPNotFound(text="No such report (deleted, or past its retention period).")
    response = aiohttp_jinja2.render_template(
        "staff_report.html",
        request,
        {
            "page": "staff-reports",
            "report": row,
            "kind": KINDS.get(row.kind, row.kind),
            "to": {r.id: r.label for r in _offered(request)}.get(row.recipient, row.recipient),
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def delete(request: web.Request) -> web.StreamResponse:
    user, mine = await _reader(request)
    await request.post()  # the CSRF middleware has checked its token
    reference = request.match_info["reference"]
    async with request.app[SERVICES].write_lock, request.app[ENGINE].begin() as conn:
        found = await figures.delete_report(
            conn, reference, actor=user.name, recipients=mine, now=now(request)
        )
    if not found:
        raise web.HTTPNotFound(text="No such report.")
    raise web.HTTPSeeOther("/staff-reports?message=deleted")


async def retention_save(request: web.Request) -> web.StreamResponse:
    user, form = await posted(request, HEADTEACHER)
    try:
        days = int(str(form.get("report_retention_days", "")))
    except ValueError:
        raise refuse("Retention: a whole number of days, 1 to 3650.") from None
    if not 1 <= days <= figures.MAX_RETENTION_DAYS:
        raise refuse("Retention: a whole number of days, 1 to 3650.")
    async with request.app[ENGINE].begin() as conn:
        await figures.set_retention_days(conn, days, actor=user.name, now=now(request))
    raise web.HTTPSeeOther("/staff-reports?message=retention")


async def reader_save(request: web.Request) -> web.StreamResponse:
    """A headteacher chooses who reads a recipient's reports (clauses 5.3, 12.3): the choice is
    theirs alone, as other sensitive roles are, and in the audit log."""
    user, form = await posted(request, HEADTEACHER)
    recipient = str(form.get("recipient", ""))
    if recipient not in {r.id for r in _offered(request)} or recipient == HEADTEACHER:
        raise refuse("Reader: choose one of the recipients listed on this page.")
    name = str(form.get("reader", "")).strip() or None
    async with request.app[ENGINE].begin() as conn:
        try:
            await figures.choose_reader(conn, recipient, name, actor=user.name, now=now(request))
        except StoreError as exc:
            raise refuse(f"Reader: {exc}; choose an account from the list.") from None
    raise web.HTTPSeeOther("/staff-reports?message=reader")
