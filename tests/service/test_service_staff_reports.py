"""Telling the Headteacher (clauses 8.1, 8.4, 5.3, 11.3.7), the service's side: a sensor relays a
report, the headteacher reads it in the inbox (each read audited) and is emailed through a real
SMTP server (aiosmtpd, STARTTLS and login required); a failed email leaves the report in the inbox,
saying so; the reports' own retention period."""

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from service import retention
from service.app import create_app
from service.config import Config, SmtpSettings, smtp_from_environment
from service.keys import ENGINE, SERVICES
from service.mailer import MAILER
from tests.support.browser import CHROMIUM, artifact_path, chromium_args, have_chromium
from tests.support.forms import csrf_from
from tests.support.net import free_port, stop
from tests.support.service import PASSWORD as PASSWORD_OF_USERS
from tests.support.service import Service, add_sensor, add_user, bearer, later, login, seed_store
from tests.support.smtp import PASSWORD, USER, SmtpServer

REPORT = {
    "kind": "contact",
    "platform": "facebook",
    "what_happened": "A parent of a pupil in Year 4 sent me a friend request and a message "
    "about homework on Facebook last night. I have not replied.",
    "name": "Sam Teacher",
    "contact": "sam.teacher@wycliffe.example, extension 214",
}
HEAD = "miss-newman"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    folder = tmp_path / "smtp"
    folder.mkdir()
    server = SmtpServer(folder)
    yield server
    server.close()


def settings_for(server: SmtpServer, **changes: Any) -> SmtpSettings:
    smtp = SmtpSettings(
        host="localhost",
        port=server.port,
        security="starttls",
        user=USER,
        password=PASSWORD,
        sender="clausewarden@wycliffe.example",
        to=("head@wycliffe.example",),
        ca_file=server.ca_file,
        link="https://clausewarden.wycliffe.example",
        timeout=10,
    )
    return replace(smtp, **changes)


async def start(aiohttp_client: Any, config: Config, smtp: SmtpSettings | None = None) -> Any:
    return await aiohttp_client(create_app(replace(config, smtp=smtp)))


async def send(cli: Any, token: str, report: dict[str, Any] | None = None) -> Any:
    return await cli.post("/api/v1/staff-reports", json=report or REPORT, headers=bearer(token))


async def as_headteacher(cli: Any) -> None:
    await add_user(cli, HEAD, "headteacher")
    assert (await login(cli, HEAD)).status == 303


async def test_a_report_gets_a_reference_and_the_headteacher_reads_it_in_the_inbox(
    aiohttp_client, config
):
    cli = await start(aiohttp_client, config)
    token = await add_sensor(cli)
    response = await send(cli, token)
    assert response.status == 201
    assert response.headers["Cache-Control"] == "no-store"
    reference = (await response.json())["reference"]
    assert re.fullmatch(r"CW-[A-Z2-9]{4}-[A-Z2-9]{4}", reference)

    await as_headteacher(cli)
    inbox = await (await cli.get("/staff-reports")).text()
    assert reference in inbox and "not yet" in inbox
    assert "off (no SMTP server)" in inbox
    assert REPORT["name"] not in inbox and "friend request" not in inbox  # the list reads nothing

    page = await cli.get(f"/staff-reports/{reference}")
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    text = await page.text()
    for value in (REPORT["name"], REPORT["contact"], "friend request", "clause 8.1"):
        assert value in text
    assert "<dt>Platform" not in text  # no platform is kept with a report (issue 16)
    assert "not yet" not in await (await cli.get("/staff-reports")).text()

    audit = await (await cli.get("/audit")).text()
    assert "staff_report.received" in audit and "staff_report.read" in audit
    assert reference in audit and REPORT["name"] not in audit and "friend request" not in audit


async def test_the_headteacher_is_emailed_through_the_schools_smtp_server_with_starttls(
    aiohttp_client, config, smtp, caplog
):
    cli = await start(aiohttp_client, config, settings_for(smtp))
    token = await add_sensor(cli)
    response = await send(cli, token)
    assert response.status == 201
    reference = (await response.json())["reference"]
    await cli.server.app[MAILER].drain()

    assert smtp.logins == [(USER, PASSWORD)]
    [mail] = smtp.received
    assert mail.tls and mail.rcpt_tos == ["head@wycliffe.example"]
    assert reference in mail.message["Subject"]
    body = mail.message.get_payload(decode=True).decode()
    assert reference in body and "clause 8.1" in body
    assert f"https://clausewarden.wycliffe.example/staff-reports/{reference}" in body
    # By default the email says a report waits; the report itself is read in the audited inbox.
    assert REPORT["name"] not in body and "friend request" not in body

    await as_headteacher(cli)
    inbox = await (await cli.get("/staff-reports")).text()
    assert re.search(rf"{reference}.*?<td>sent</td>", inbox, re.S)
    assert PASSWORD not in caplog.text


async def test_with_include_report_the_email_carries_the_report_itself(
    aiohttp_client, config, smtp
):
    cli = await start(aiohttp_client, config, settings_for(smtp, include_report=True))
    token = await add_sensor(cli)
    assert (await send(cli, token)).status == 201
    await cli.server.app[MAILER].drain()
    [mail] = smtp.received
    body = mail.message.get_payload(decode=True).decode()
    assert REPORT["name"] in body and REPORT["contact"] in body and "friend request" in body


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"password": "wrong-password"}, "refused the user name or password"),
        ({"ca_file": None}, "certificate is not trusted"),
        ({"port": None}, "could not connect to localhost"),
    ],
    ids=["wrong password", "untrusted certificate", "nothing listening"],
)
async def test_when_the_email_fails_the_report_is_kept_and_the_inbox_says_so(
    aiohttp_client, config, smtp, caplog, changes, says
):
    if changes.get("port", 0) is None:
        changes = {"port": free_port()}
    cli = await start(aiohttp_client, config, settings_for(smtp, **changes))
    token = await add_sensor(cli)
    response = await send(cli, token)
    assert response.status == 201
    reference = (await response.json())["reference"]
    await cli.server.app[MAILER].drain()
    assert smtp.received == []

    await as_headteacher(cli)
    inbox = await (await cli.get("/staff-reports")).text()
    row = inbox[inbox.index(reference) :]
    assert "<strong>failed</strong>" in row[:600] and says in row[:600]
    page = await (await cli.get(f"/staff-reports/{reference}")).text()
    assert REPORT["name"] in page and "failed" in page
    assert PASSWORD not in caplog.text and "wrong-password" not in caplog.text
    assert says in caplog.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**REPORT, "kind": "gossip"}, "kind"),
        ({**REPORT, "platform": "myspace"}, "platform"),
        ({**REPORT, "platform": 3}, "platform"),
        ({**REPORT, "name": ["Sam"]}, "name"),
        ({**REPORT, "what_happened": "   "}, "what_happened"),
        ({**REPORT, "contact": "x" * 201}, "contact"),
        ({**REPORT, "device": "10.0.0.7"}, "device"),
        ({k: v for k, v in REPORT.items() if k != "name"}, "name"),
    ],
)
async def test_a_malformed_report_is_refused_naming_the_field_and_nothing_is_kept(
    aiohttp_client, config, body, field
):
    cli = await start(aiohttp_client, config)
    token = await add_sensor(cli)
    response = await send(cli, token, body)
    assert response.status == 400
    answer = await response.json()
    assert field in [p["field"] for p in answer["problems"]]
    await as_headteacher(cli)
    assert "No reports." in await (await cli.get("/staff-reports")).text()


async def test_platform_other_or_null_is_accepted_and_no_platform_is_kept(aiohttp_client, config):
    cli = await start(aiohttp_client, config)
    token = await add_sensor(cli)
    assert (await send(cli, token, {**REPORT, "platform": "other"})).status == 201
    assert (await send(cli, token, {**REPORT, "platform": None})).status == 201
    await as_headteacher(cli)
    inbox = await (await cli.get("/staff-reports")).text()
    assert inbox.count('href="/staff-reports/CW-') == 2 and "Platform" not in inbox


async def test_reports_go_after_their_own_retention_period_set_by_the_headteacher(
    aiohttp_client, config, clock
):
    cli = await start(aiohttp_client, config)
    token = await add_sensor(cli)
    await as_headteacher(cli)
    page = await (await cli.get("/staff-reports")).text()
    assert 'value="365"' in page  # a year by default
    old = (await (await send(cli, token)).json())["reference"]
    later(clock, days=20)
    new = (await (await send(cli, token)).json())["reference"]
    saved = await cli.post(
        "/staff-reports/retention",
        data={"report_retention_days": "30", "csrf_token": csrf_from(page)},
        allow_redirects=False,
    )
    assert saved.status == 303
    later(clock, days=15)  # the first is 35 days old, the second 15
    app = cli.server.app
    summary = await retention.run(app[ENGINE], app[SERVICES].bundles, app[SERVICES].tz, clock.now)
    assert summary["staff_reports_deleted"] == 1
    inbox = await (await cli.get("/staff-reports")).text()
    assert old not in inbox and new in inbox
    assert (await cli.get(f"/staff-reports/{old}")).status == 404
    # The events' own retention (90 days) did not decide it, and the change is audited.
    audit = await (await cli.get("/audit")).text()
    assert "staff_report.retention" in audit and "retention.run" in audit
    bad = await cli.post(
        "/staff-reports/retention",
        data={"report_retention_days": "0", "csrf_token": csrf_from(page)},
    )
    assert bad.status == 400 and "1 to 3650" in await bad.text()


async def test_the_headteacher_deletes_a_report_and_the_deletion_is_audited(aiohttp_client, config):
    cli = await start(aiohttp_client, config)
    token = await add_sensor(cli)
    reference = (await (await send(cli, token)).json())["reference"]
    await as_headteacher(cli)
    page = await (await cli.get(f"/staff-reports/{reference}")).text()
    gone = await cli.post(
        f"/staff-reports/{reference}/delete",
        data={"csrf_token": csrf_from(page)},
        allow_redirects=False,
    )
    assert gone.status == 303
    assert (await cli.get(f"/staff-reports/{reference}")).status == 404
    assert "staff_report.delete" in await (await cli.get("/audit")).text()


async def test_the_headteachers_pages_link_the_inbox_and_others_do_not(aiohttp_client, config):
    cli = await start(aiohttp_client, config)
    await as_headteacher(cli)
    assert 'href="/staff-reports"' in await (await cli.get("/")).text()
    await add_user(cli, "ada", "admin")
    other = await aiohttp_client(cli.server)  # a second browser on the same service
    assert (await login(other, "ada")).status == 303
    assert 'href="/staff-reports"' not in await (await other.get("/")).text()


def test_smtp_settings_come_from_the_environment_and_a_mistake_is_one_line(tmp_path):
    assert smtp_from_environment({}) is None
    secret = tmp_path / "smtp-password"
    secret.write_text("from-a-file\n")
    env = {
        "CLAUSEWARDEN_SMTP_HOST": "smtp.wycliffe.example",
        "CLAUSEWARDEN_SMTP_USER": "clausewarden",
        "CLAUSEWARDEN_SMTP_PASSWORD_FILE": str(secret),
        "CLAUSEWARDEN_SMTP_FROM": "clausewarden@wycliffe.example",
        "CLAUSEWARDEN_SMTP_TO": "head@wycliffe.example, deputy@wycliffe.example",
    }
    smtp = smtp_from_environment(env)
    assert smtp is not None
    assert (smtp.port, smtp.security, smtp.password) == (587, "starttls", "from-a-file")
    assert smtp.to == ("head@wycliffe.example", "deputy@wycliffe.example")
    assert "from-a-file" not in repr(smtp)
    tls = smtp_from_environment({**env, "CLAUSEWARDEN_SMTP_SECURITY": "tls"})
    assert tls is not None and tls.port == 465
    for change, names in [
        ({"CLAUSEWARDEN_SMTP_PORT": "smtp"}, "CLAUSEWARDEN_SMTP_PORT"),
        ({"CLAUSEWARDEN_SMTP_SECURITY": "ssl3"}, "CLAUSEWARDEN_SMTP_SECURITY"),
        ({"CLAUSEWARDEN_SMTP_TO": ""}, "CLAUSEWARDEN_SMTP_TO"),
        ({"CLAUSEWARDEN_SMTP_PASSWORD_FILE": str(tmp_path / "none")}, "PASSWORD_FILE"),
    ]:
        with pytest.raises(ValueError, match=names) as caught:
            smtp_from_environment({**env, **change})
        assert "\n" not in str(caught.value)


def _serve(data: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    service = Service(data, env=env).start()
    assert service.process is not None
    return service.process, service.url


def test_serve_refuses_a_wrong_smtp_setting_in_one_line(tmp_path):
    env = {**os.environ, "CLAUSEWARDEN_SMTP_HOST": "smtp.example", "CLAUSEWARDEN_SMTP_PORT": "x"}
    done = subprocess.run(
        [sys.executable, "-m", "clausewarden", "serve", "--port", str(free_port()),
         "--data-dir", str(tmp_path / "data")],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "CLAUSEWARDEN_SMTP_PORT" in lines[0]


@pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")
def test_a_real_serve_emails_by_its_environment_and_the_headteacher_reads_the_report_in_chromium(
    tmp_path, smtp
):
    playwright = pytest.importorskip("playwright.sync_api")
    data = tmp_path / "data"
    token = seed_store(data, {"helen": "headteacher"}, ["proxy1"])["proxy1"]
    secret = tmp_path / "smtp-password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    process, url = _serve(
        data,
        {
            "CLAUSEWARDEN_SMTP_HOST": "localhost",
            "CLAUSEWARDEN_SMTP_PORT": str(smtp.port),
            "CLAUSEWARDEN_SMTP_USER": USER,
            "CLAUSEWARDEN_SMTP_PASSWORD_FILE": str(secret),
            "CLAUSEWARDEN_SMTP_FROM": "clausewarden@wycliffe.example",
            "CLAUSEWARDEN_SMTP_TO": "head@wycliffe.example",
            "CLAUSEWARDEN_SMTP_CA_FILE": str(smtp.ca_file),
        },
    )
    try:
        request = urllib.request.Request(  # noqa: S310 - loopback test server
            f"{url}/api/v1/staff-reports",
            data=json.dumps(REPORT).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 201
            reference = json.loads(response.read())["reference"]
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=chromium_args()
            )
            page = browser.new_page()
            page.goto(f"{url}/login")
            page.get_by_label("Name").fill("helen")
            page.get_by_label("Password").fill(PASSWORD_OF_USERS)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{url}/")
            page.get_by_role("link", name="Reports from staff").click()
            page.wait_for_url(f"{url}/staff-reports")
            # The email goes in a task of its own: the page says "sent" once it went.
            for _ in range(100):
                if page.get_by_role("cell", name="sent", exact=True).count():
                    break
                page.wait_for_timeout(100)
                page.reload()
            assert page.get_by_role("cell", name="sent", exact=True).count() == 1
            page.screenshot(
                path=str(artifact_path("service-staff-reports-inbox.png")), full_page=True
            )
            page.get_by_role("link", name=reference).click()
            page.wait_for_url(f"{url}/staff-reports/{reference}")
            assert page.get_by_role("heading", name=f"Report {reference}").is_visible()
            assert REPORT["name"] in page.content()
            page.screenshot(path=str(artifact_path("service-staff-report.png")), full_page=True)
            page.get_by_role("link", name="Reports from staff").first.click()
            field = page.get_by_label("Delete a report this many days after it came")
            field.fill("200")
            page.get_by_role("button", name="Save").click()
            assert page.get_by_role("status").inner_text().startswith("The reports' retention")
            assert field.input_value() == "200"
            browser.close()
        [mail] = smtp.received
        assert mail.tls and reference in mail.message["Subject"]
        assert smtp.logins == [(USER, PASSWORD)]
    finally:
        stop(process)
