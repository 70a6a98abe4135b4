"""School accounts as schools run them (clause 10.1), through the real service over HTTP on a real
SQLite file: the form says which kind of account is approved and refuses what could never match,
the headteacher is told of requests (a notice in the pages, an email through a real SMTP server),
the approval chooses the actions (messaging off) and the expiry (the end of the school year), and
accounts.yaml edited after the first start is applied and audited at the next start."""

import asyncio
import html as htmllib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from policy.configdir import DEFAULT_CONFIG_DIR
from service.app import create_app
from service.config import Config, SmtpSettings
from service.db import audit_log
from service.keys import ENGINE
from service.mailer import MAILER
from tests.support.forms import csrf_from, form_post
from tests.support.service import add_sensor, add_user, bearer, login
from tests.support.smtp import PASSWORD, USER, SmtpServer

PAGE = {
    "id": "wycliffe-fb",
    "platform": "facebook",
    "account_id": "100012345678901",
    "label": "Wycliffe CE Primary Facebook Page",
    "kind": "page",
    "actions": ["browse", "post"],
}


async def text_of(resp: Any) -> str:
    """The page's text with HTML's character references undone (&#39; is ')."""
    return htmllib.unescape(await resp.text())


async def as_admin(cli: Any) -> None:
    await add_user(cli, "alice", "admin")
    await add_user(cli, "helen", "headteacher")
    await login(cli, "alice")


async def switch(cli: Any, name: str) -> None:
    html = await text_of(await cli.get("/accounts"))
    await cli.post("/logout", data={"csrf_token": csrf_from(html)})
    await login(cli, name)


async def test_a_platform_whose_cookies_carry_no_id_is_refused_with_the_reason_and_the_other_way(
    cli,
):
    await as_admin(cli)
    form = {**PAGE, "id": "wycliffe-linkedin", "platform": "linkedin", "kind": "account"}
    resp = await form_post(cli, "/accounts", "/accounts", form)
    assert resp.status == 400
    html = await text_of(resp)
    assert 'role="alert"' in html
    assert "LinkedIn cannot be approved by account id: its cookies carry no account id" in html
    assert "school accounts device group" in html
    assert 'value="wycliffe-linkedin"' in html  # what was typed is kept
    page = await text_of(await cli.get("/accounts"))
    assert "wycliffe-linkedin" not in page
    # the form offers only platforms an account can be recognised on, and says why
    assert '<option value="linkedin"' not in page and '<option value="facebook"' in page
    assert "YouTube" in page and "cookies carry no account id" in page


async def test_a_facebook_account_must_say_whether_it_is_a_page_or_a_persons_profile(cli):
    await as_admin(cli)
    resp = await form_post(cli, "/accounts", "/accounts", {**PAGE, "kind": "account"})
    assert resp.status == 400
    html = await text_of(resp)
    assert "Which kind of account: Facebook has no 'account' accounts" in html
    assert "page (a Page (matches only while someone acts as the Page))" in html
    resp = await form_post(cli, "/accounts", "/accounts", PAGE)
    assert resp.status == 303
    resp = await form_post(
        cli,
        "/accounts",
        "/accounts",
        {**PAGE, "id": "office-manager", "account_id": "100000000000777", "kind": "profile"},
    )
    assert resp.status == 303
    page = await text_of(await cli.get("/accounts"))
    assert "Facebook Page: counts only while someone acts as the Page" in page
    assert (
        "a person's own Facebook profile: everything this person does on Facebook counts as "
        "school business" in page
    )
    assert "Where the account id comes from" in page and "Register this as a school account" in page


async def test_the_headteacher_sees_a_notice_of_accounts_waiting_and_others_do_not(cli):
    await as_admin(cli)
    assert (await form_post(cli, "/accounts", "/accounts", PAGE)).status == 303
    admin_page = await text_of(await cli.get("/"))
    assert "waiting for your approval" not in admin_page
    await switch(cli, "helen")
    for path in ("/", "/events", "/accounts"):
        html = await text_of(await cli.get(path))
        assert 'School accounts <span class="badge">1 waiting for your approval</span>' in html


async def test_approval_offers_messaging_off_and_the_end_of_the_school_year(cli):
    token = await add_sensor(cli)
    await as_admin(cli)
    form = {**PAGE, "actions": ["browse", "post", "message"]}
    assert (await form_post(cli, "/accounts", "/accounts", form)).status == 303
    await switch(cli, "helen")
    html = await text_of(await cli.get("/accounts"))
    approve = html.split('action="/accounts/wycliffe-fb/approve"', 1)[1].split("</form>", 1)[0]
    assert 'value="message" >' in approve or 'value="message"  >' in approve  # not ticked
    assert 'value="post" checked' in approve and 'value="browse" checked' in approve
    assert 'name="expires_on" value="2027-08-31"' in approve  # 31 August following 25 Nov 2026
    resp = await form_post(
        cli,
        "/accounts",
        "/accounts/wycliffe-fb/approve",
        {"actions": ["browse", "post"], "expires_on": "2027-08-31"},
    )
    assert resp.status == 303
    bundle = await (await cli.get("/api/v1/bundle", headers=bearer(token))).json()
    [account] = bundle["accounts"]
    assert (account["actions"], account["expires_on"], account["kind"]) == (
        ["browse", "post"],
        "2027-08-31",
        "page",
    )
    async with cli.server.app[ENGINE].connect() as conn:
        rows = list(
            await conn.execute(select(audit_log).where(audit_log.c.action == "account.approve"))
        )
    assert '"expires_on":"2027-08-31"' in rows[-1].detail.replace(" ", "")


async def test_an_approval_without_any_action_is_refused(cli):
    await as_admin(cli)
    assert (await form_post(cli, "/accounts", "/accounts", PAGE)).status == 303
    await switch(cli, "helen")
    resp = await form_post(
        cli, "/accounts", "/accounts/wycliffe-fb/approve", {"expires_on": "2027-08-31"}
    )
    assert resp.status == 400 and "choose at least one allowed action" in await text_of(resp)


async def test_the_approval_offers_no_reference_and_quotes_clauses_10_3_8_1_and_6_2(cli):
    # Clause 10.3: school use is subject to the rest of the policy. The headteacher decides
    # with the clauses an approval cannot change in front of them.
    await as_admin(cli)
    assert (await form_post(cli, "/accounts", "/accounts", PAGE)).status == 303
    await switch(cli, "helen")
    html = await text_of(await cli.get("/accounts"))
    approve = html.split('action="/accounts/wycliffe-fb/approve"', 1)[1].split("</form>", 1)[0]
    assert 'value="message"' in approve and 'value="reference"' not in approve
    add = html.split('id="add-account"', 1)[1].split("</form>", 1)[0]
    assert 'value="reference"' not in add
    still = html.split('id="still-applies"', 1)[1].split("</section>", 1)[0]
    assert "reference: no approval can allow it; rule reference blocks it" in still
    assert "message: an approval may allow it, but it still gets the notice of clause 8.1" in still
    assert "Clause 10.3: " not in still  # 10.3 has no heading of its own
    assert "Clause 10.3.</strong> The use of social media for school purposes is subject" in still
    assert "Clause 8.1: Contact with Students and / or parents / carers.</strong>" in still
    assert "Clause 6.2.</strong> Staff should never provide references" in still


async def test_a_crafted_approval_or_edit_with_references_is_refused_naming_clause_6_2(cli):
    # The attack: posting "reference" although the form does not offer it.
    token = await add_sensor(cli)
    await as_admin(cli)
    resp = await form_post(
        cli, "/accounts", "/accounts", {**PAGE, "actions": ["browse", "reference"]}
    )
    assert resp.status == 400
    assert "'reference' cannot be approved" in await text_of(resp)
    assert (await form_post(cli, "/accounts", "/accounts", PAGE)).status == 303
    await switch(cli, "helen")
    resp = await form_post(
        cli,
        "/accounts",
        "/accounts/wycliffe-fb/approve",
        {"actions": ["browse", "post", "reference"], "expires_on": "2027-08-31"},
    )
    assert resp.status == 400
    refused = await text_of(resp)
    assert "clause 6.2" in refused and "a school account too" in refused
    resp = await form_post(
        cli,
        "/accounts",
        "/accounts/wycliffe-fb/approve",
        {"actions": ["browse", "post"], "expires_on": "2027-08-31"},
    )
    assert resp.status == 303
    resp = await form_post(
        cli,
        "/accounts",
        "/accounts/wycliffe-fb/edit",
        {"label": "Page", "actions": ["browse", "reference"], "expires_on": "2027-08-31"},
    )
    assert resp.status == 400 and "clause 6.2" in await text_of(resp)
    bundle = await (await cli.get("/api/v1/bundle", headers=bearer(token))).json()
    assert [a["actions"] for a in bundle["accounts"]] == [["browse", "post"]]


async def test_a_sensor_request_says_the_kind_and_one_for_a_platform_without_ids_is_refused(cli):
    token = await add_sensor(cli)
    resp = await cli.post(
        "/api/v1/account-requests",
        json={"platform": "facebook", "account_id": "1000123", "label": "Year 6", "kind": "page"},
        headers=bearer(token),
    )
    assert resp.status == 202
    resp = await cli.post(
        "/api/v1/account-requests",
        json={"platform": "facebook", "account_id": "1000555", "label": "Office"},
        headers=bearer(token),
    )
    assert resp.status == 202  # an older sensor: it read c_user, a person's own profile
    resp = await cli.post(
        "/api/v1/account-requests",
        json={"platform": "linkedin", "account_id": "x", "label": "Wycliffe on LinkedIn"},
        headers=bearer(token),
    )
    assert resp.status == 400
    [problem] = (await resp.json())["problems"]
    assert problem["field"] == "platform" and "carry no account id" in problem["message"]
    await as_admin(cli)
    html = await text_of(await cli.get("/accounts"))
    pending = html.split('id="pending"', 1)[1].split("</table>", 1)[0]
    assert "Facebook Page: counts only while someone acts as the Page" in pending
    assert "a person's own Facebook profile" in pending
    assert "asked for from a warning page (sensor:proxy1)" in pending
    assert "browse, post" in pending and "message" not in pending.split("Allowed actions")[0]


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    folder = tmp_path / "smtp"
    folder.mkdir()
    server = SmtpServer(folder)
    yield server
    server.close()


async def test_the_headteacher_is_emailed_of_a_request_without_the_accounts_id(
    aiohttp_client, config, smtp
):
    settings = SmtpSettings(
        host="localhost",
        port=smtp.port,
        user=USER,
        password=PASSWORD,
        sender="clausewarden@wycliffe.example",
        to=("head@wycliffe.example",),
        ca_file=smtp.ca_file,
        timeout=10,
    )
    cli = await aiohttp_client(create_app(replace(config, smtp=settings)))
    token = await add_sensor(cli)
    resp = await cli.post(
        "/api/v1/account-requests",
        json={"platform": "facebook", "account_id": "1000123", "label": "Year 6", "kind": "page"},
        headers=bearer(token),
    )
    assert resp.status == 202
    await cli.server.app[MAILER].drain()
    [mail] = smtp.received
    assert mail.rcpt_tos == ["head@wycliffe.example"] and mail.tls
    assert "Facebook school account waits for your approval" in mail.message["Subject"]
    text = mail.message.get_payload(decode=True).decode()
    assert "Facebook Page: counts only while someone acts as the Page" in text
    assert "Year 6" in text and "messaging is off unless you tick it" in text
    assert "1000123" not in mail.raw.decode()


ACCOUNTS_YAML = """\
accounts:
  - id: wycliffe-x
    platform: x
    account_id: "2000001"
    label: Wycliffe on X
    approved_by: Miss Newman
    approved_on: 2026-09-01
    expires_on: 2027-08-31
    actions: [browse, post]
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, out)
    (out / "accounts.yaml").write_text(ACCOUNTS_YAML)
    return out


async def started(aiohttp_client: Any, config: Config, folder: Path) -> Any:
    return await aiohttp_client(create_app(replace(config, config_dir=folder)))


async def syncs(cli: Any) -> list[str]:
    async with cli.server.app[ENGINE].connect() as conn:
        rows = await conn.execute(
            select(audit_log.c.actor, audit_log.c.detail).where(
                audit_log.c.action == "account.sync"
            )
        )
        return [f"{actor} {detail}" for actor, detail in rows]


async def test_accounts_yaml_edited_after_the_first_start_is_applied_and_audited(
    aiohttp_client, config, folder
):
    cli = await started(aiohttp_client, config, folder)
    token = await add_sensor(cli)
    # the file's entry waits for the headteacher (issue 16): not in the bundle until approved
    assert (await (await cli.get("/api/v1/bundle", headers=bearer(token))).json())["accounts"] == []
    await add_user(cli, "helen", "headteacher")
    await login(cli, "helen")
    resp = await form_post(cli, "/accounts", "/accounts/wycliffe-x/approve", {})
    assert resp.status == 303
    [account] = (await (await cli.get("/api/v1/bundle", headers=bearer(token))).json())["accounts"]
    assert account["label"] == "Wycliffe on X" and account["kind"] == "account"
    assert account["approved_by"] == "helen" and account["expires_on"] == "2027-08-31"
    [first] = await syncs(cli)
    assert first.startswith("accounts.yaml ") and '"change": "added"' in first.replace(":", ": ")
    await cli.close()

    # an unchanged file changes nothing at the next start
    cli = await started(aiohttp_client, config, folder)
    assert len(await syncs(cli)) == 1
    await cli.close()

    # edit the file: the next start applies it, audited as from accounts.yaml
    text = ACCOUNTS_YAML.replace("Wycliffe on X", "Wycliffe PTA on X").replace(
        "[browse, post]", "[browse]"
    )
    (folder / "accounts.yaml").write_text(text)
    cli = await started(aiohttp_client, config, folder)
    # the changed entry waits for the headteacher again
    assert (await (await cli.get("/api/v1/bundle", headers=bearer(token))).json())["accounts"] == []
    changed = (await syncs(cli))[-1]
    assert "changed" in changed and "Wycliffe PTA on X" in changed
    await login(cli, "helen")
    resp = await form_post(cli, "/accounts", "/accounts/wycliffe-x/approve", {})
    assert resp.status == 303
    [account] = (await (await cli.get("/api/v1/bundle", headers=bearer(token))).json())["accounts"]
    assert (account["label"], account["actions"]) == ("Wycliffe PTA on X", ["browse"])
    await add_user(cli, "alice", "admin")
    await login(cli, "alice")
    html = await text_of(await cli.get("/accounts"))
    approved = html.split('id="approved"', 1)[1].split("</table>", 1)[0]
    assert "from accounts.yaml" in approved
    await cli.close()

    # remove it from the file: it is expired at the next start
    (folder / "accounts.yaml").write_text("accounts: []\n")
    cli = await started(aiohttp_client, config, folder)
    assert (await (await cli.get("/api/v1/bundle", headers=bearer(token))).json())["accounts"] == []
    assert "removed" in (await syncs(cli))[-1]
    await cli.close()


async def test_an_accounts_yaml_entry_whose_id_was_taken_in_the_pages_is_reported(
    aiohttp_client, config, folder, caplog
):
    (folder / "accounts.yaml").write_text("accounts: []\n")
    cli = await started(aiohttp_client, config, folder)
    await as_admin(cli)
    form = {**PAGE, "id": "wycliffe-x", "platform": "x", "account_id": "999", "kind": "account"}
    assert (await form_post(cli, "/accounts", "/accounts", form)).status == 303
    await cli.close()
    (folder / "accounts.yaml").write_text(ACCOUNTS_YAML)
    cli = await started(aiohttp_client, config, folder)
    assert "'wycliffe-x' was not applied: an account with that id was added in the admin pages" in (
        caplog.text
    )
    await login(cli, "alice")
    html = await text_of(await cli.get("/accounts"))
    assert "Not applied from accounts.yaml at the last start" in html
    assert "give the file's entry another id" in html


def check(*args: str) -> subprocess.CompletedProcess[str]:
    """`clausewarden check` as a person runs it, deciding as the Page's office manager acting as
    the Page on a Wednesday morning of the autumn term."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "clausewarden",
            "check",
            "https://www.facebook.com/",
            "--cookie",
            "c_user=100000000000777",
            "--cookie",
            f"i_user={PAGE['account_id']}",
            "--at",
            "2026-11-25T10:00:00Z",
            "--json",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


async def approved_page(cli: Any) -> str:
    """The Page added by the admin and approved by the headteacher; a sensor token."""
    token = await add_sensor(cli)
    await as_admin(cli)
    assert (await form_post(cli, "/accounts", "/accounts", PAGE)).status == 303
    await switch(cli, "helen")
    resp = await form_post(
        cli, "/accounts", "/accounts/wycliffe-fb/approve", {"actions": ["browse", "post"]}
    )
    assert resp.status == 303
    return token


async def test_check_with_data_dir_decides_with_the_accounts_approved_in_the_service(cli, config):
    await approved_page(cli)
    await cli.close()
    plain = await asyncio.to_thread(check)
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout)["account"] == "personal"  # config/accounts.yaml has none
    served = await asyncio.to_thread(check, "--data-dir", str(config.data_dir))
    assert served.returncode == 0, served.stderr
    decision = json.loads(served.stdout)
    assert (decision["account"], decision["rule"]) == ("school", "school-account")


async def test_check_with_service_decides_with_the_bundle_the_service_serves(cli, tmp_path):
    token = await approved_page(cli)
    token_file = tmp_path / "sensor-token"
    token_file.write_text(token + "\n")
    url = str(cli.make_url("/"))
    served = await asyncio.to_thread(check, "--service", url, "--token-file", str(token_file))
    assert served.returncode == 0, served.stderr
    assert json.loads(served.stdout)["account"] == "school"
    token_file.write_text("cws_not-a-token")
    refused = await asyncio.to_thread(check, "--service", url, "--token-file", str(token_file))
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith("give a sensor token (`clausewarden sensor add NAME`)")
    assert len(refused.stderr.strip().splitlines()) == 1


def test_check_with_a_data_dir_that_holds_no_service_says_so_in_one_line(tmp_path):
    result = check("--data-dir", str(tmp_path / "nothing"))
    assert result.returncode == 2
    assert "no service database there; give the data folder `clausewarden serve` uses" in (
        result.stderr
    )
