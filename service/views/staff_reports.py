"""Telling the Headteacher (clauses 8.1, 8.4, 5.3, 11.3.7): the sensors' endpoint and the inbox.

- `POST /api/v1/staff-reports` (a sensor's token): a report a member of staff wrote on the proxy's
  form or the extension's. Kept in its own table with the day it came, never the time, the sensor
  or the platform the form offered (service.staff_report_store says why); answered 201 with its
  reference at once; the
  email to the headteacher goes in a task of its own. Per-credential rate limit (each enrolled
  laptop its own; only reports that would be kept count; a credential's first report of the day is
  never refused), 16 kB at most, 400 on any unknown field or wrong type.
- `/staff-reports` (the headteacher alone): the inbox, a list without text or names; opening a
  report shows it whole and writes the read to the audit log; the reports' retention period.
"""

import re
import time
from typing import Any

import aiohttp_jinja2
import orjson
from aiohttp import web

from policy.staff_report import KINDS, MAX_BODY_BYTES, check_report
from service import staff_report_store as figures
from service.api_models import StaffReportReceipt
from service.keys import ENGINE, SERVICES
from service.mailer import MAILER
from service.views.common import now, posted, refuse, require, today
from service.views.jsonapi import json_error, json_response
from service.views.sensor_auth import authenticate_sensor, hold_to

MAX_BODY = MAX_BODY_BYTES
REFERENCE = re.compile(r"^CW-[A-Z0-9]{4}-[A-Z0-9]{4}$")
HEADTEACHER = "headteacher"


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
    report, problems = check_report(body, platforms)
    if report is None:
        raise json_error(400, "the report was refused; nothing was kept", problems=problems)
    _within_limit(request, sensor)  # only a report that would be kept counts
    mailer = request.app[MAILER]
    day = today(request)
    async with services.write_lock, request.app[ENGINE].begin() as conn:
        reference = await figures.add_report(
            conn, report, email_status="sending" if mailer.enabled else "off", day=day
        )
    if mailer.enabled:
        app = request.app
        mailer.spawn(lambda: _email(app, reference, report, day.isoformat()))
    return json_response(
        StaffReportReceipt(reference=reference, received_on=day).to_json(),
        status=201,
        headers={"Cache-Control": "no-store"},
    )


async def _email(app: web.Application, reference: str, report: Any, day: str) -> None:
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
            "Read it in ClauseWarden's inbox for staff reports (the headteacher alone can open "
            "it; every read is in the audit log):",
        ]
    if smtp.link:
        lines.append(f"{smtp.link}/staff-reports/{reference}")
    subject = f"ClauseWarden: a report from a member of staff ({reference})"
    why = await mailer.send(subject, "\n".join(lines) + "\n")
    async with app[SERVICES].write_lock, app[ENGINE].begin() as conn:
        await figures.note_email(conn, reference, "failed" if why else "sent", why)


MESSAGES = {
    "retention": "The reports' retention period is saved.",
    "deleted": "The report is deleted.",
}


@aiohttp_jinja2.template("staff_reports.html")
async def inbox(request: web.Request) -> dict[str, Any]:
    await require(request, HEADTEACHER)
    async with request.app[ENGINE].connect() as conn:
        rows = await figures.inbox(conn)
        days = await figures.retention_days(conn)
    return {
        "page": "staff-reports",
        "reports": rows,
        "kinds": KINDS,
        "retention_days": days,
        "max_days": figures.MAX_RETENTION_DAYS,
        "mail_on": request.app[MAILER].enabled,
        "message": MESSAGES.get(request.query.get("message", "")),
    }


async def read(request: web.Request) -> web.StreamResponse:
    user = await require(request, HEADTEACHER)
    reference = request.match_info["reference"]
    if not REFERENCE.fullmatch(reference):
        raise web.HTTPNotFound(text="No such report.")
    async with request.app[SERVICES].write_lock, request.app[ENGINE].begin() as conn:
        row = await figures.read_report(conn, reference, reader=user.name, now=now(request))
    if row is None:
        raise web.HTTPNotFound(text="No such report (deleted, or past its retention period).")
    response = aiohttp_jinja2.render_template(
        "staff_report.html",
        request,
        {
            "page": "staff-reports",
            "report": row,
            "kind": KINDS.get(row.kind, row.kind),
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def delete(request: web.Request) -> web.StreamResponse:
    user, _form = await posted(request, HEADTEACHER)
    reference = request.match_info["reference"]
    async with request.app[SERVICES].write_lock, request.app[ENGINE].begin() as conn:
        found = await figures.delete_report(conn, reference, actor=user.name, now=now(request))
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
