"""The Tell form's recipients (clauses 5.3, 12.3, 10.2): a school names a line manager and the
senior team in settings.yaml; a real `clausewarden proxy` offers them on its form, saying who
receives what; a real `clausewarden serve` keeps each report for its recipient alone and emails
its own address through a real SMTP server (aiosmtpd); in real Chromium, a report to the line
manager is read by the account the headteacher chose for the line manager and not by the
headteacher, a press enquiry (clause 10.2) goes to the headteacher and not to the line manager,
and every read is in the audit log. A recipient id the school does not have is refused by the
API naming the field."""

import json
import re
import shutil
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from policy.configdir import DEFAULT_CONFIG_DIR
from tests.support.axe import assert_accessible
from tests.support.browser import CHROMIUM, artifact_path, chromium_args, have_chromium
from tests.support.net import stop
from tests.support.proxy import FAST, Proxy, recent_working_time, start_proxy
from tests.support.service import PASSWORD, Service, seed_store
from tests.support.smtp import PASSWORD as SMTP_PASSWORD
from tests.support.smtp import USER as SMTP_USER
from tests.support.smtp import SmtpServer
from tests.support.tell import CONTACT, NAME, stored_reports

LINE_MANAGER = "Mr Lee (line manager, Key Stage 1)"
LEE_MAIL, SLT_MAIL, HEAD_MAIL = (
    "lee@wycliffe.example",
    "slt@wycliffe.example",
    "head@wycliffe.example",
)
RECIPIENTS = (
    "  report_recipients:\n"
    f"    - {{id: lm-ks1, role: line_manager, label: '{LINE_MANAGER}', email: [{LEE_MAIL}]}}\n"
    f"    - {{id: slt, role: senior_team, label: The senior team, email: [{SLT_MAIL}]}}\n"
)
MISUSE = "Bluejay-3: a colleague posted photos of Year 6 pupils on a personal account."
PRESS = "Kestrel-9: the Gazette rang me asking for a comment on the new building."


@dataclass
class School:
    proxy: Proxy
    service: Service
    smtp: SmtpServer
    token: str


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory, upstream: Any) -> Iterator[School]:
    folder = tmp_path_factory.mktemp("recipients")
    config = folder / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    settings = config / "settings.yaml"
    settings.write_text(settings.read_text().replace("  report_recipients: []\n", RECIPIENTS))
    (folder / "smtp").mkdir()
    smtp = SmtpServer(folder / "smtp")
    data = folder / "service"
    data.mkdir()
    seed_store(data, {"helen": "headteacher", "mr-lee": "viewer"}, [])
    env = {
        "CLAUSEWARDEN_SMTP_HOST": "localhost",
        "CLAUSEWARDEN_SMTP_PORT": str(smtp.port),
        "CLAUSEWARDEN_SMTP_USER": SMTP_USER,
        "CLAUSEWARDEN_SMTP_PASSWORD": SMTP_PASSWORD,
        "CLAUSEWARDEN_SMTP_FROM": "clausewarden@wycliffe.example",
        "CLAUSEWARDEN_SMTP_TO": HEAD_MAIL,
        "CLAUSEWARDEN_SMTP_CA_FILE": str(smtp.ca_file),
    }
    service = Service(data, config=config, env=env, sensor="proxy")
    service.start()
    try:
        proxy = start_proxy(
            folder / "proxy", upstream.port, config, recent_working_time(), FAST,
            (service.url, service.token_file),
        )  # fmt: skip
    except BaseException:
        service.stop()
        smtp.close()
        raise
    yield School(proxy, service, smtp, service.token)
    stop(proxy.process)
    service.stop()
    smtp.close()


def post_report(school: School, report: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST /api/v1/staff-reports with the proxy's sensor token, as a sensor sends it."""
    request = urllib.request.Request(  # noqa: S310 - the loopback test service
        f"{school.service.url}/api/v1/staff-reports",
        data=json.dumps(report).encode(),
        headers={"Authorization": f"Bearer {school.token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def audit_of(service: Service, action: str) -> list[tuple[str, dict[str, Any]]]:
    with sqlite3.connect(service.folder / "clausewarden.db") as db:
        rows = db.execute(
            "SELECT actor, detail FROM audit_log WHERE action = ? ORDER BY id", (action,)
        ).fetchall()
    return [(actor, json.loads(detail)) for actor, detail in rows]


def mail_for(smtp: SmtpServer, reference: str) -> Any:
    """The email about `reference` (sent in a task of its own after the report is kept)."""
    for _ in range(300):
        found = [m for m in smtp.received if reference in str(m.message["Subject"])]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no email about {reference}: {[m.rcpt_tos for m in smtp.received]}")


def report_url(school: School, reference: str) -> str:
    return f"{school.service.url}/staff-reports/{reference}"


def test_the_form_says_who_receives_what_and_offers_each_recipient(school):
    status, _, form = school.proxy.get("http", "clausewarden.internal", "/tell?platform=x")
    text = form.decode()
    assert status == 200
    assert "<caption>Who receives what</caption>" in text
    table = text.split("<caption>Who receives what</caption>", 1)[1].split("</table>", 1)[0]
    rows = {
        who: body
        for who, body in re.findall(r'<th scope="row">([^<]+)</th><td>(.*?)</td>', table, re.S)
    }
    assert set(rows) == {"the Headteacher", LINE_MANAGER, "The senior team"}
    assert "clause 10.2" in rows["the Headteacher"] and "clause 10.2" not in rows[LINE_MANAGER]
    assert "Misuse of social media (clause 5.3)" in rows[LINE_MANAGER]
    assert "Misuse" not in rows["the Headteacher"]  # 5.3: to the line manager
    assert "question about what this policy says" in rows["The senior team"]
    for ident in ("headteacher", "lm-ks1", "slt"):
        assert f'name="to" id="to-{ident}" value="{ident}"' in text
    assert 'value="press"' in text


def test_a_forged_recipient_or_one_that_does_not_receive_the_kind_is_refused_naming_to(school):
    base = {
        "kind": "misuse",
        "platform": None,
        "what_happened": "Forged-1",
        "name": NAME,
        "contact": CONTACT,
    }
    before = len(stored_reports(school.service))
    status, body = post_report(school, {**base, "to": "the-chair-of-governors"})
    assert status == 400
    [problem] = body["problems"]
    assert problem["field"] == "to"
    assert problem["message"] == "one of the school's recipients: headteacher, lm-ks1, slt"
    status, body = post_report(school, {**base, "kind": "press", "to": "lm-ks1"})
    assert status == 400
    assert body["problems"] == [
        {"field": "to", "message": "lm-ks1 does not receive 'press'; send it to headteacher"}
    ]
    assert len(stored_reports(school.service)) == before
    # A sensor from before recipients sends no `to`: its report goes to the Headteacher.
    status, body = post_report(school, {**base, "kind": "contact", "what_happened": "Older-1"})
    assert status == 201
    [older] = [r for r in stored_reports(school.service) if r["what_happened"] == "Older-1"]
    assert older["recipient"] == "headteacher"


def _fill(page: Any, kind: str, to: str, what: str) -> None:
    page.get_by_label(kind).check()
    page.get_by_role("group", name="Who should receive it?").get_by_label(to).check()
    page.get_by_label("What happened").fill(what)
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("How they can reach you").fill(CONTACT)


def _log_in(browser: Any, school: School, name: str) -> Any:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{school.service.url}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{school.service.url}/")
    return page


@pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")
def test_chromium_each_recipient_reads_only_its_own_reports_every_read_audited(school):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        staff = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=chromium_args(),
            proxy={"server": f"http://127.0.0.1:{school.proxy.port}"},
        )
        page = staff.new_context(bypass_csp=True).new_page()
        page.goto("http://clausewarden.internal/tell?platform=facebook")
        assert_accessible(page, "the proxy's Tell form with three recipients")
        page.screenshot(path=str(artifact_path("proxy-tell-recipients.png")), full_page=True)
        _fill(page, "Misuse of social media (clause 5.3)", LINE_MANAGER, MISUSE)
        with page.expect_navigation():
            page.get_by_role("button", name="Send to the person chosen").click()
        assert page.get_by_role("heading", name=f"Sent to {LINE_MANAGER}").is_visible()
        to_lee = page.locator(".reference").inner_text()
        assert_accessible(page, "the proxy's page after a report went to a line manager")

        page.goto("http://clausewarden.internal/tell")
        # Clause 10.2: a press enquiry goes to the Headteacher; the line manager is refused.
        _fill(page, "asked for comments about the school for publication", LINE_MANAGER, PRESS)
        with page.expect_navigation():
            page.get_by_role("button", name="Send to the person chosen").click()
        alert = page.get_by_role("alert")
        assert "does not receive this kind of report: choose the Headteacher" in alert.inner_text()
        assert_accessible(page, "the proxy's Tell form naming the recipient to choose")
        page.get_by_role("group", name="Who should receive it?").get_by_label(
            "the Headteacher"
        ).check()
        with page.expect_navigation():
            page.get_by_role("button", name="Send to the person chosen").click()
        assert page.get_by_role("heading", name="Sent to the Headteacher").is_visible()
        to_head = page.locator(".reference").inner_text()
        staff.close()

        reports = {r["reference"]: r for r in stored_reports(school.service)}
        assert reports[to_lee]["recipient"] == "lm-ks1" and reports[to_lee]["kind"] == "misuse"
        assert reports[to_head]["recipient"] == "headteacher"
        assert reports[to_head]["kind"] == "press"

        # Each email goes to its recipient's own address, and says nothing of the report itself.
        lee_mail, head_mail = mail_for(school.smtp, to_lee), mail_for(school.smtp, to_head)
        assert lee_mail.rcpt_tos == [LEE_MAIL] and lee_mail.message["To"] == LEE_MAIL
        assert head_mail.rcpt_tos == [HEAD_MAIL] and head_mail.message["To"] == HEAD_MAIL
        assert SLT_MAIL not in str([m.rcpt_tos for m in school.smtp.received])
        assert b"Bluejay-3" not in lee_mail.raw and NAME.encode() not in lee_mail.raw

        admin = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=chromium_args())
        head = _log_in(admin, school, "helen")
        head.get_by_role("link", name="Reports from staff").click()
        head.wait_for_url(f"{school.service.url}/staff-reports")
        assert head.get_by_role("link", name=to_head).count() == 1
        assert head.get_by_role("link", name=to_lee).count() == 0  # the line manager's
        assert head.goto(report_url(school, to_lee)).status == 404
        assert head.goto(report_url(school, to_head)).status == 200
        assert "Kestrel-9" in head.content()
        head.goto(f"{school.service.url}/staff-reports")
        # The headteacher chooses which account reads the line manager's reports.
        head.get_by_label(f"Reads the reports sent to {LINE_MANAGER}").select_option("mr-lee")
        head.get_by_role("button", name=f"Save reader for {LINE_MANAGER}").click()
        assert head.get_by_role("status").inner_text() == "The reader is saved."
        assert_accessible(head, "the headteacher's inbox with the readers of other recipients")
        head.screenshot(
            path=str(artifact_path("service-staff-reports-readers.png")), full_page=True
        )

        lee = _log_in(admin, school, "mr-lee")
        lee.get_by_role("link", name="Reports from staff").click()
        lee.wait_for_url(f"{school.service.url}/staff-reports")
        assert lee.get_by_role("link", name=to_lee).count() == 1
        assert lee.get_by_role("link", name=to_head).count() == 0  # the Headteacher's
        assert lee.get_by_role("heading", name="How long reports are kept").count() == 0
        assert_accessible(lee, "a line manager's inbox")
        lee.get_by_role("link", name=to_lee).click()
        lee.wait_for_url(report_url(school, to_lee))
        assert "Bluejay-3" in lee.content() and NAME in lee.content()
        assert_accessible(lee, "a report read by the line manager")
        assert lee.goto(report_url(school, to_head)).status == 404
        admin.close()

    reads = audit_of(school.service, "staff_report.read")
    assert ("mr-lee", {"reference": to_lee, "to": "lm-ks1"}) in reads
    assert ("helen", {"reference": to_head, "to": "headteacher"}) in reads
    assert {actor for actor, detail in reads if detail["reference"] == to_lee} == {"mr-lee"}
    assert {actor for actor, detail in reads if detail["reference"] == to_head} == {"helen"}
    assert ("helen", {"recipient": "lm-ks1", "reader": "mr-lee"}) in audit_of(
        school.service, "staff_report.reader"
    )
