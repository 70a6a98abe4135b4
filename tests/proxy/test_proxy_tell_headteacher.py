"""Tell the Headteacher through the proxy: a real `clausewarden proxy` (mitmdump) relays the form on
its own host (http://clausewarden.internal/tell) to a real `clausewarden serve`; the warning page
and the self-view link it; nothing of the report rests on the proxy; a service that cannot be
reached is said plainly, with what was typed still in the form; Chromium fills it by its labels."""

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, artifact_path, chromium_args, have_chromium
from tests.support.net import free_port, stop
from tests.support.proxy import FAST, Proxy, recent_working_time, start_proxy
from tests.support.service import Service
from tests.support.tell import (
    CONTACT,
    HOST,
    NAME,
    WHAT,
    send,
    stored_reports,
    token_of,
)


def files_hold(folder: Path, *needles: str) -> list[str]:
    """The files under `folder` holding any of `needles` (bytes, as UTF-8)."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(n.encode() in data for n in needles):
                found.append(str(path))
    return found


@pytest.fixture
def service(tmp_path) -> Iterator[Service]:
    folder = tmp_path / "service"
    folder.mkdir()
    svc = Service(folder, sensor="proxy", log=folder / "service.log")
    yield svc
    svc.stop()


@pytest.fixture
def connected(tmp_path, upstream, service) -> Iterator[Proxy]:
    service.start()
    proxy = start_proxy(
        tmp_path, upstream.port, None, recent_working_time(), FAST,
        (service.url, service.token_file),
    )  # fmt: skip
    yield proxy
    stop(proxy.process)


def test_the_warning_page_and_the_self_view_link_the_form_with_the_platform_chosen(connected):
    _, _, warning = connected.get("http", "www.instagram.com", "/")
    assert b'href="http://clausewarden.internal/tell?platform=instagram"' in warning
    status, headers, form = connected.get("http", HOST, "/tell?platform=instagram")
    assert status == 200 and headers["cache-control"] == "no-store"
    text = form.decode()
    assert "the one place where a name enters ClauseWarden" in text
    assert "never added to them" in text
    assert re.search(r'<option value="instagram" selected>Instagram</option>', text)
    assert "clause 8.1" in text and "clause 8.4" in text and "clause 11.3.7" in text
    _, _, mine = connected.get("http", HOST, "/mine")
    assert b'<a href="/tell">Tell the Headteacher</a>' in mine


def test_a_report_reaches_the_service_with_a_reference_and_nothing_of_it_rests_on_the_proxy(
    tmp_path, connected, service
):
    _, _, form = connected.get("http", HOST, "/tell")
    status, body = send(connected, token_of(form))
    assert status == 201, body[:500]
    reference = re.search(rb"CW-[A-Z2-9]{4}-[A-Z2-9]{4}", body)
    assert reference is not None and b"Sent to the Headteacher" in body
    [report] = stored_reports(service)
    assert report["reference"] == reference.group().decode()
    assert report["kind"] == "contact"
    # The day only, no sensor, no platform (issue 16: they narrowed a report to a device).
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", report["received_on"])
    assert not {"sensor", "platform", "received_at"} & set(report)
    assert (report["what_happened"], report["name"], report["contact"]) == (WHAT, NAME, CONTACT)
    # Not in the outbox, the proxy's files or its log; no event was recorded for it.
    assert files_hold(connected.data, "Zebra-7", NAME, CONTACT) == []
    assert files_hold(tmp_path / "mitmproxy", "Zebra-7", NAME) == []
    log = (tmp_path / "proxy.log").read_text(errors="replace")
    assert "Zebra-7" not in log and NAME not in log
    with sqlite3.connect(connected.data / "outbox.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_when_the_service_cannot_be_reached_the_form_says_so_and_keeps_what_was_typed(
    tmp_path, upstream
):
    token_file = tmp_path / "token"
    token_file.write_text("sensor_not-a-real-token\n")
    proxy = start_proxy(
        tmp_path, upstream.port, None, recent_working_time(), FAST,
        (f"http://127.0.0.1:{free_port()}", token_file),
    )  # fmt: skip
    try:
        _, _, form = proxy.get("http", HOST, "/tell")
        status, body = send(proxy, token_of(form))
        assert status == 503
        text = body.decode()
        assert "Not sent: the ClauseWarden service could not be reached" in text
        assert "tell the Headteacher another way today" in text
        assert f">{WHAT}</textarea>" in text and f'value="{NAME}"' in text
        assert files_hold(proxy.data, "Zebra-7", NAME) == []
    finally:
        stop(proxy.process)


def test_a_missing_field_shows_the_form_again_naming_what_to_fix(tmp_path, upstream):
    proxy = start_proxy(tmp_path, upstream.port, None)
    try:
        _, _, form = proxy.get("http", HOST, "/tell")
        status, body = send(proxy, token_of(form), name="  ", kind="")
        assert status == 400
        text = body.decode()
        assert "Write your name" in text and "Choose what it is about" in text
        assert 'id="name" name="name"' in text and 'aria-invalid="true"' in text
        assert f">{WHAT}</textarea>" in text
    finally:
        stop(proxy.process)


def test_a_proxy_without_a_service_says_the_form_cannot_send(tmp_path, upstream):
    proxy = start_proxy(tmp_path, upstream.port, None)
    try:
        _, _, form = proxy.get("http", HOST, "/tell")
        assert b"this form cannot send anything" in form
        status, body = send(proxy, token_of(form))
        assert status == 503 and b"not connected to a ClauseWarden service" in body
    finally:
        stop(proxy.process)


@pytest.mark.skipif(not have_chromium(), reason="needs /usr/bin/chromium")
def test_chromium_goes_from_the_warning_page_to_the_form_fills_it_by_label_and_gets_a_reference(
    connected, service
):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=chromium_args(),
            proxy={"server": f"http://127.0.0.1:{connected.port}"},
        )
        context = browser.new_context(ignore_https_errors=True)
        warning = context.new_page()
        warning.goto("http://www.instagram.com/")
        with context.expect_page() as opened:  # a new tab: the warning can still be answered
            warning.get_by_role("link", name="Tell the Headteacher").click()
        page = opened.value
        page.wait_for_load_state()
        assert page.url.split("://", 1)[1].startswith("clausewarden.internal/tell")
        assert page.get_by_role("heading", name="Tell the Headteacher", level=1).is_visible()
        assert page.get_by_label("Which platform?").input_value() == "instagram"
        # Sent with nothing typed: the problems are announced and linked to their fields.
        page.get_by_role("button", name="Send to the Headteacher").click()
        page.wait_for_load_state()
        assert page.get_by_role("alert").is_visible()
        page.screenshot(path=str(artifact_path("proxy-tell-headteacher-form.png")), full_page=True)
        page.get_by_role("link", name=re.compile("Write your name")).click()
        # Every control has its accessible name; keyboard alone reaches the button.
        page.get_by_label("A pupil or a parent/carer contacted me on social media").check()
        page.get_by_label("What happened").fill(WHAT)
        page.get_by_label("Your name").fill(NAME)
        page.get_by_label("How the Headteacher can reach you").fill(CONTACT)
        page.get_by_label("How the Headteacher can reach you").press("Tab")
        focused = page.evaluate("document.activeElement.id")
        assert focused == "send"
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.get_by_role("heading", name="Sent to the Headteacher").is_visible()
        shown = page.locator(".reference").inner_text()
        page.screenshot(path=str(artifact_path("proxy-tell-headteacher-sent.png")), full_page=True)
        browser.close()
    [report] = stored_reports(service)
    assert report["reference"] == shown and report["name"] == NAME
