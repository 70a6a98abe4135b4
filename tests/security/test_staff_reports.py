"""Attacks on the reports staff send the Headteacher (the one place a name is kept): another role
reading them, a sensor token reading them back or flooding them, oversized and ill-typed bodies,
the report's text leaking into the events, exports, dashboard, API, audit log or logs, the SMTP
password leaking, and another site's form or a script sending a report through the proxy. Against
the real aiohttp application on a real SQLite file, a real SMTP server (aiosmtpd), and a real
`clausewarden proxy` (mitmdump) with a real `clausewarden serve`."""

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import update

from service import sensor_store, user_store
from service.app import create_app
from service.config import Config
from service.db import users
from service.keys import ENGINE, SERVICES
from tests.support.events import an_event
from tests.support.forms import csrf_from
from tests.support.service import migrated
from tests.support.smtp import PASSWORD as SMTP_PASSWORD
from tests.support.smtp import USER as SMTP_USER
from tests.support.smtp import SmtpServer

PASSWORD = "a-long-password"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
MARK = "Xylophone-Quokka-4417"
NAME = "Ottoline Vandersteen"
CONTACT = "ottoline.v@wycliffe.example"
REPORT = {
    "kind": "safeguarding",
    "platform": "instagram",
    "what_happened": f"{MARK}: a post about a pupil that worried me.",
    "name": NAME,
    "contact": CONTACT,
}
SECRETS = (MARK, NAME, CONTACT)


@pytest.fixture
async def cli(aiohttp_client: Any, tmp_path: Path) -> Any:
    config = Config(data_dir=migrated(tmp_path / "data"), clock=lambda: NOW, background_tasks=False)
    return await aiohttp_client(create_app(config))


async def add_user(cli: Any, name: str, role: str) -> None:
    async with cli.server.app[ENGINE].begin() as conn:
        await user_store.add_user(conn, name, role, PASSWORD, actor="test", now=NOW)
        await conn.execute(update(users).where(users.c.name == name).values(approved_by="test"))


async def add_sensor(cli: Any, name: str = "proxy1") -> str:
    async with cli.server.app[ENGINE].begin() as conn:
        return await sensor_store.add_sensor(conn, name, actor="test", now=NOW)


async def browser_for(aiohttp_client: Any, cli: Any, name: str) -> Any:
    """A client of its own (its own cookie jar) logged in as `name` through the real form."""
    other = await aiohttp_client(cli.server)
    token = csrf_from(await (await other.get("/login")).text())
    login = await other.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"},
        allow_redirects=False,
    )
    assert login.status == 303
    return other


async def send(cli: Any, token: str, body: Any = None, **kw: Any) -> Any:
    return await cli.post(
        "/api/v1/staff-reports",
        json=REPORT if body is None else body,
        headers={"Authorization": f"Bearer {token}"},
        **kw,
    )


async def report_rows(cli: Any) -> list[Any]:
    async with cli.server.app[ENGINE].connect() as conn:
        from sqlalchemy import select

        from service.db import staff_reports

        return list(await conn.execute(select(staff_reports)))


# --- who reads ------------------------------------------------------------------------------


async def test_a_viewer_an_admin_or_a_governor_cannot_open_the_inbox_or_a_report(
    aiohttp_client, cli
):
    token = await add_sensor(cli)
    response = await send(cli, token)
    assert response.status == 201
    reference = (await response.json())["reference"]
    await add_user(cli, "head", "headteacher")
    head = await browser_for(aiohttp_client, cli, "head")
    page = await head.get(f"/staff-reports/{reference}")
    assert page.status == 200 and NAME in await page.text()
    assert page.headers["Cache-Control"] == "no-store"
    for role in ("viewer", "admin", "governor"):
        await add_user(cli, role, role)
        other = await browser_for(aiohttp_client, cli, role)
        for path in ("/staff-reports", f"/staff-reports/{reference}"):
            answer = await other.get(path, allow_redirects=False)
            assert answer.status == 403, (role, path)
            text = await answer.text()
            assert not any(s in text for s in SECRETS)
        home = await (await other.get("/")).text()
        assert 'href="/staff-reports"' not in home
    audit = await (await head.get("/audit")).text()
    assert audit.count("staff_report.read") == 1  # the headteacher's one read, no one else's


async def test_an_admin_cannot_change_the_reports_retention_or_delete_a_report(aiohttp_client, cli):
    token = await add_sensor(cli)
    reference = (await (await send(cli, token)).json())["reference"]
    await add_user(cli, "ada", "admin")
    admin = await browser_for(aiohttp_client, cli, "ada")
    csrf = csrf_from(await (await admin.get("/settings")).text())
    retention = await admin.post(
        "/staff-reports/retention",
        data={"report_retention_days": "1", "csrf_token": csrf},
        allow_redirects=False,
    )
    delete = await admin.post(
        f"/staff-reports/{reference}/delete", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert retention.status == 403 and delete.status == 403
    assert [r.reference for r in await report_rows(cli)] == [reference]


async def test_the_inbox_forms_need_the_sessions_csrf_token(aiohttp_client, cli):
    token = await add_sensor(cli)
    reference = (await (await send(cli, token)).json())["reference"]
    await add_user(cli, "head", "headteacher")
    head = await browser_for(aiohttp_client, cli, "head")
    assert (await head.get("/staff-reports")).status == 200
    forged = await head.post(f"/staff-reports/{reference}/delete", allow_redirects=False)
    assert forged.status == 403
    assert [r.reference for r in await report_rows(cli)] == [reference]


async def test_a_sensor_token_cannot_read_reports_back(aiohttp_client, cli):
    token = await add_sensor(cli)
    reference = (await (await send(cli, token)).json())["reference"]
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/staff-reports", f"/api/v1/staff-reports/{reference}"):
        answer = await cli.get(path, headers=bearer, allow_redirects=False)
        assert answer.status in (404, 405)
        text = await answer.text()
        assert not any(s in text for s in SECRETS)
    page = await cli.get(f"/staff-reports/{reference}", headers=bearer, allow_redirects=False)
    assert page.status == 303 and page.headers["Location"].startswith("/login")


async def test_a_revoked_or_unknown_sensor_cannot_send_a_report(aiohttp_client, cli):
    token = await add_sensor(cli)
    assert (await send(cli, "sensor_made-up")).status == 401
    async with cli.server.app[ENGINE].begin() as conn:
        await sensor_store.revoke_sensor(conn, "proxy1", actor="test", now=NOW)
    assert (await send(cli, token)).status in (401, 403)
    assert await report_rows(cli) == []


# --- what a sensor token holder can send ----------------------------------------------------


async def test_a_sensor_sending_a_flood_of_reports_is_told_to_wait_and_nothing_more_is_kept(cli):
    # A proxy's one credential speaks for every device behind it (the proxy limits each device:
    # tests/security/test_report_limits.py), so the service bounds the proxy as a whole.
    token = await add_sensor(cli)
    burst = int(cli.server.app[SERVICES].sensor_limits.proxy_staff_reports.burst)
    answers = [(await send(cli, token)).status for _ in range(burst)]
    assert answers == [201] * burst
    flooded = await send(cli, token)
    assert flooded.status == 429 and int(flooded.headers["Retry-After"]) >= 1
    assert len(await report_rows(cli)) == burst
    other = await add_sensor(cli, "proxy2")  # another sensor is not held up by the first
    assert (await send(cli, other)).status == 201


async def test_a_report_bigger_than_16_kB_is_refused_unread_with_or_without_its_length(cli):
    token = await add_sensor(cli)
    big = {**REPORT, "what_happened": "x" * 20_000}
    assert (await send(cli, token, big)).status == 413

    async def chunks() -> Any:  # no Content-Length: chunked, counted as it comes
        import orjson

        data = orjson.dumps(big)
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    chunked = await cli.post(
        "/api/v1/staff-reports",
        data=chunks(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert chunked.status == 413
    long_text = {**REPORT, "what_happened": "y" * 4001}  # under 16 kB, over the field's limit
    assert (await send(cli, token, long_text)).status == 400
    assert await report_rows(cli) == []


@pytest.mark.parametrize(
    "body",
    [
        [REPORT],
        "a report",
        {**REPORT, "name": {"$ne": None}},
        {**REPORT, "what_happened": 12345},
        {**REPORT, "contact": None},
        {**REPORT, "kind": ["contact"]},
        {**REPORT, "platform": {"id": "instagram"}},
        {**REPORT, "event_id": "0190f0c8-0000-7000-8000-000000000000"},
    ],
    ids=["list", "string", "object name", "number text", "null contact", "list kind",
         "object platform", "extra field"],
)  # fmt: skip
async def test_a_report_of_the_wrong_types_is_refused_with_400(cli, body):
    token = await add_sensor(cli)
    answer = await send(cli, token, body)
    assert answer.status == 400
    assert (await answer.json())["error"].startswith("the report was refused")
    assert await report_rows(cli) == []


# --- where the text must never go -----------------------------------------------------------


async def test_a_reports_text_and_name_never_appear_in_events_exports_dashboard_api_or_logs(
    aiohttp_client, cli, tmp_path, caplog
):
    # The level `clausewarden serve` logs at (aiosqlite's DEBUG traces every SQL parameter, the
    # events' too, and is never on).
    caplog.set_level("INFO")
    token = await add_sensor(cli)
    event = {**an_event().to_json(), "platform": "instagram"}
    assert (await cli.post("/api/v1/events", json={"events": [event]}, headers={
        "Authorization": f"Bearer {token}"})).status == 202  # fmt: skip
    assert (await send(cli, token)).status == 201
    await add_user(cli, "head", "headteacher")
    await add_user(cli, "ada", "admin")
    await add_user(cli, "gov", "governor")
    seen = []
    for name in ("head", "ada", "gov"):
        other = await browser_for(aiohttp_client, cli, name)
        for path in ("/", "/events", "/events/export", "/audit", "/staff-reports", "/settings"):
            answer = await other.get(path, allow_redirects=False)
            seen.append((name, path, await answer.text()))
    async with cli.server.app[ENGINE].begin() as conn:
        api_token = await user_store.add_api_token(
            conn, "reports", user_name="ada", role="admin", now=NOW
        )
    api = await cli.get("/api/v1/events", headers={"Authorization": f"Bearer {api_token}"})
    assert api.status == 200
    seen.append(("api", "/api/v1/events", await api.text()))
    seen.append(("metrics", "/metrics", await (await cli.get("/metrics")).text()))
    for who, path, text in seen:
        assert not any(s in text for s in SECRETS), (who, path)
    leaks = [r for r in caplog.records if any(s in r.getMessage() for s in SECRETS)]
    assert not leaks, [(r.name, r.levelname) for r in leaks]
    # In the database, the text is in the reports' own table only (never an event or audit row).
    with sqlite3.connect(tmp_path / "data" / "clausewarden.db") as db:
        for table in ("events", "daily_counts", "daily_devices", "audit_log", "settings"):
            rows = repr(db.execute(f"SELECT * FROM {table}").fetchall())  # noqa: S608
            assert not any(s in rows for s in SECRETS), table
        assert db.execute("SELECT count(*) FROM staff_reports").fetchone()[0] == 1


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    folder = tmp_path / "smtp"
    folder.mkdir()
    server = SmtpServer(folder)
    yield server
    server.close()


@pytest.mark.parametrize("password", [SMTP_PASSWORD, "a-wrong-smtp-password"])
async def test_the_smtp_password_never_reaches_the_log_the_inbox_or_the_audit_log(
    aiohttp_client, tmp_path, smtp, caplog, password
):
    from service.config import SmtpSettings

    caplog.set_level("DEBUG")
    settings = SmtpSettings(
        host="localhost",
        port=smtp.port,
        user=SMTP_USER,
        password=password,
        sender="clausewarden@wycliffe.example",
        to=("head@wycliffe.example",),
        ca_file=smtp.ca_file,
        timeout=10,
    )
    config = Config(
        data_dir=tmp_path / "data", clock=lambda: NOW, background_tasks=False, smtp=settings
    )
    cli = await aiohttp_client(create_app(config))
    assert password not in repr(config)
    token = await add_sensor(cli)
    assert (await send(cli, token)).status == 201
    from service.mailer import MAILER

    await cli.server.app[MAILER].drain()
    assert len(smtp.received) == (1 if password == SMTP_PASSWORD else 0)
    await add_user(cli, "head", "headteacher")
    head = await browser_for(aiohttp_client, cli, "head")
    for path in ("/staff-reports", "/audit", "/settings"):
        assert password not in await (await head.get(path)).text()
    assert password not in caplog.text
    with sqlite3.connect(tmp_path / "data" / "clausewarden.db") as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            assert password not in repr(db.execute(f"SELECT * FROM {table}").fetchall())  # noqa: S608
    for path in (tmp_path / "data").iterdir():
        assert password.encode() not in path.read_bytes()


# --- through the proxy ----------------------------------------------------------------------


@pytest.fixture
def relay(tmp_path, upstream) -> Iterator[tuple[Any, Any]]:
    from tests.support.net import stop
    from tests.support.proxy import FAST, recent_working_time, start_proxy
    from tests.support.service import Service

    folder = tmp_path / "service"
    folder.mkdir()
    service = Service(folder, sensor="proxy", log=folder / "service.log")
    service.start()
    proxy = start_proxy(
        tmp_path, upstream.port, None, recent_working_time(), FAST,
        (service.url, service.token_file),
    )  # fmt: skip
    yield proxy, service
    stop(proxy.process)
    service.stop()


def _form(token: str) -> bytes:
    return urlencode({**REPORT, "token": token}).encode()


def _stored(service: Any) -> int:
    with sqlite3.connect(service.folder / "clausewarden.db") as db:
        return int(db.execute("SELECT count(*) FROM staff_reports").fetchone()[0])


POST = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}


def test_another_sites_form_or_a_script_cannot_send_a_report_through_the_proxy(relay):
    proxy, service = relay
    _, _, page = proxy.get("http", "clausewarden.internal", "/tell")
    token = page.decode().split('name="token" value="', 1)[1].split('"', 1)[0]
    attacks = {
        "another site's form, no token": (
            {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
             "Sec-Fetch-Site": "cross-site"}, ""),
        "another site's form, a token": (
            {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
             "Sec-Fetch-Site": "cross-site"}, token),
        "a script's fetch": (
            {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty", "Sec-Fetch-Site": "cross-site"},
            token),
        "a frame": (
            {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe",
             "Sec-Fetch-Site": "same-origin"}, token),
        "the form without its token": (
            {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
             "Sec-Fetch-Site": "same-origin"}, ""),
        "a forged token": (
            {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
             "Sec-Fetch-Site": "same-origin"}, "tell|tell|0000|9999999999.AAAA"),
    }  # fmt: skip
    for what, (headers, given) in attacks.items():
        status, _, body = proxy.get(
            "http", "clausewarden.internal", "/tell", {**POST, **headers}, "POST", _form(given)
        )
        assert status == 403, what
        assert b"Sent to the Headteacher" not in body, what
    assert _stored(service) == 0
    # The member of staff's own form, from the page itself, goes through.
    same = {
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Site": "same-origin",
    }
    status, _, body = proxy.get(
        "http", "clausewarden.internal", "/tell", {**POST, **same}, "POST", _form(token)
    )
    assert status == 201 and b"Sent to the Headteacher" in body
    assert _stored(service) == 1


def test_a_token_from_one_device_does_not_send_a_report_from_another(relay):
    import http.client

    proxy, service = relay
    _, _, page = proxy.get("http", "clausewarden.internal", "/tell")
    token = page.decode().split('name="token" value="', 1)[1].split('"', 1)[0]
    conn = http.client.HTTPConnection(
        "127.0.0.1", proxy.port, timeout=10, source_address=("127.0.0.2", 0)
    )
    same = {
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Site": "same-origin",
    }
    conn.request("POST", "http://clausewarden.internal/tell", body=_form(token),
                 headers={**POST, **same, "Host": "clausewarden.internal"})  # fmt: skip
    answer = conn.getresponse()
    answer.read()
    conn.close()
    assert answer.status == 403
    assert _stored(service) == 0


def test_a_report_never_rests_in_the_proxys_outbox_files_or_log(tmp_path, relay):
    proxy, service = relay
    _, _, page = proxy.get("http", "clausewarden.internal", "/tell")
    token = page.decode().split('name="token" value="', 1)[1].split('"', 1)[0]
    same = {
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Site": "same-origin",
    }
    status, _, _ = proxy.get(
        "http", "clausewarden.internal", "/tell", {**POST, **same}, "POST", _form(token)
    )
    assert status == 201 and _stored(service) == 1
    for path in [*proxy.data.rglob("*"), tmp_path / "proxy.log"]:
        if path.is_file():
            data = path.read_bytes()
            assert not any(s.encode() in data for s in SECRETS), path
    with sqlite3.connect(service.folder / "clausewarden.db") as db:
        events = repr(db.execute("SELECT * FROM events").fetchall())
    assert not any(s in events for s in SECRETS)
