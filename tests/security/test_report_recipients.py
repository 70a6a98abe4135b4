"""Attacks on the reports' recipients (clauses 5.3, 12.3): a line manager's reader opening or
deleting the Headteacher's reports by their reference, the headteacher opening the line manager's,
an account no one chose reading any, and anyone but a headteacher choosing who reads a recipient's
reports (themselves, say). Against the real aiohttp application on a real SQLite file."""

import shutil
from pathlib import Path
from typing import Any

import pytest

from policy.configdir import DEFAULT_CONFIG_DIR
from service.app import create_app
from service.config import Config
from tests.support.forms import csrf_from
from tests.support.service import add_sensor, add_user, bearer, login

BASE = {"platform": None, "what_happened": "Heron-5", "name": "Sam", "contact": "Room 4"}


@pytest.fixture
def school_config(tmp_path: Path) -> Config:
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    settings = folder / "settings.yaml"
    settings.write_text(
        settings.read_text().replace(
            "  report_recipients: []\n",
            "  report_recipients:\n    - {id: lm-ks1, role: line_manager, label: Mr Lee}\n",
        )
    )
    return Config(data_dir=tmp_path / "data", config_dir=folder, background_tasks=False)


async def _as(aiohttp_client: Any, server: Any, name: str) -> Any:
    browser = await aiohttp_client(server)  # a browser of its own on the same service
    assert (await login(browser, name)).status == 303
    return browser


async def _report(cli: Any, token: str, kind: str, to: str) -> str:
    sent = await cli.post(
        "/api/v1/staff-reports", json={**BASE, "kind": kind, "to": to}, headers=bearer(token)
    )
    assert sent.status == 201, await sent.text()
    return str((await sent.json())["reference"])


async def _choose(browser: Any, reader: str) -> Any:
    page = await (await browser.get("/staff-reports")).text()
    return await browser.post(
        "/staff-reports/readers",
        data={"csrf_token": csrf_from(page), "recipient": "lm-ks1", "reader": reader},
        allow_redirects=False,
    )


async def test_each_reader_opens_and_deletes_only_its_own_recipients_reports(
    aiohttp_client, school_config
):
    cli = await aiohttp_client(create_app(school_config))
    token = await add_sensor(cli)
    to_head = await _report(cli, token, "press", "headteacher")
    to_lee = await _report(cli, token, "misuse", "lm-ks1")
    await add_user(cli, "helen", "headteacher")
    await add_user(cli, "mr-lee", "viewer")
    head = await _as(aiohttp_client, cli.server, "helen")
    assert (await _choose(head, "mr-lee")).status == 303
    lee = await _as(aiohttp_client, cli.server, "mr-lee")

    assert (await lee.get(f"/staff-reports/{to_head}")).status == 404
    assert (await head.get(f"/staff-reports/{to_lee}")).status == 404
    page = await (await lee.get("/staff-reports")).text()
    assert to_lee in page and to_head not in page
    # Deleting the other's report by its reference deletes nothing.
    refused = await lee.post(
        f"/staff-reports/{to_head}/delete", data={"csrf_token": csrf_from(page)}
    )
    assert refused.status == 404
    assert (await head.get(f"/staff-reports/{to_head}")).status == 200
    assert (await lee.get(f"/staff-reports/{to_lee}")).status == 200


async def test_only_a_headteacher_chooses_who_reads_a_recipients_reports(
    aiohttp_client, school_config
):
    cli = await aiohttp_client(create_app(school_config))
    token = await add_sensor(cli)
    to_lee = await _report(cli, token, "comment", "lm-ks1")
    await add_user(cli, "helen", "headteacher")
    await add_user(cli, "ada", "admin")
    await add_user(cli, "gus", "governor")
    for name in ("ada", "gus"):
        browser = await _as(aiohttp_client, cli.server, name)
        # No one chose them: no inbox, and they cannot choose themselves.
        assert (await browser.get("/staff-reports")).status == 403
        page = await (await browser.get("/")).text()
        chose = await browser.post(
            "/staff-reports/readers",
            data={"csrf_token": csrf_from(page), "recipient": "lm-ks1", "reader": name},
            allow_redirects=False,
        )
        assert chose.status == 403
        assert (await browser.get(f"/staff-reports/{to_lee}")).status == 403
    head = await _as(aiohttp_client, cli.server, "helen")
    unknown = await _choose(head, "nobody-here")
    assert unknown.status == 400
    assert "no active user called 'nobody-here'" in await unknown.text()
    audit = await (await head.get("/audit")).text()
    assert "staff_report.reader" not in audit  # nothing was chosen
