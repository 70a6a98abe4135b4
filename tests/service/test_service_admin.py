"""The admin pages through real HTTP: login, CSRF, roles, dashboard, event log, export,
school accounts (clause 10.1), settings, audit log, privacy page, the reporting API. What
people see of the events is cells on at least k devices (tests/security/test_k_anonymity.py
attacks that)."""

import csv
import io

import orjson
from sqlalchemy import text

from service import audit
from service.keys import ENGINE
from tests.support.forms import csrf_from, form_post
from tests.support.service import add_sensor, add_user, bearer, event, login


async def test_pages_need_a_login(cli):
    resp = await cli.get("/", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"].startswith("/login")


async def test_login_with_the_right_password_opens_the_dashboard(cli):
    await add_user(cli, "alice", "admin")
    resp = await login(cli, "alice")
    assert resp.status == 303
    page = await cli.get("/")
    assert page.status == 200
    assert "Dashboard" in await page.text()
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


async def test_a_wrong_password_is_refused_and_repeated_failures_are_rate_limited(cli):
    await add_user(cli, "alice", "admin")
    statuses = [(await login(cli, "alice", "wrong-password")).status for _ in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    # even the right password waits now
    assert (await login(cli, "alice")).status == 429


async def test_a_form_posted_without_its_csrf_token_is_refused(cli):
    await add_user(cli, "alice", "admin")
    await login(cli, "alice")
    resp = await cli.post("/sensors", data={"name": "sneaky"}, allow_redirects=False)
    assert resp.status == 403
    resp = await cli.post(
        "/sensors", data={"name": "sneaky", "csrf_token": "forged"}, allow_redirects=False
    )
    assert resp.status == 403
    resp = await cli.post("/login", data={"name": "alice", "password": "a-long-password"})
    assert resp.status == 403


async def test_a_viewer_cannot_reach_admin_actions(cli):
    await add_user(cli, "victor", "viewer")
    await login(cli, "victor")
    for path in ("/sensors", "/users", "/settings", "/audit"):
        assert (await cli.get(path, allow_redirects=False)).status == 403, path
    resp = await form_post(cli, "/", "/sensors", {"name": "x"})
    assert resp.status == 403
    resp = await form_post(
        cli,
        "/",
        "/accounts",
        {"id": "a", "platform": "facebook", "account_id": "1", "label": "x", "actions": "post"},
    )
    assert resp.status == 403


async def test_dashboard_shows_charts_and_hides_small_groups_for_every_role(cli):
    await add_user(cli, "alice", "admin")
    await add_user(cli, "helen", "headteacher")
    token = await add_sensor(cli)
    # 5 devices on facebook, 4 on x, 1 on linkedin (fewer than k=3): linkedin is hidden, and x
    # too (else the day's total minus facebook and x would give linkedin's figure)
    devices = [f"{i:032x}" for i in range(5)]
    batch = (
        [event(device=d) for d in devices]
        + [event(device=d, platform="x") for d in devices[:4]]
        + [event(device=devices[0], platform="linkedin", category="professional_network")]
    )
    resp = await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))
    assert resp.status == 202
    await login(cli, "alice")
    html = await (await cli.get("/")).text()
    assert "<svg" in html and "Events per day by outcome" in html
    assert ">facebook</td><td>5<" in html
    assert ">linkedin</td><td>hidden<" in html and ">x</td><td>hidden<" in html
    assert '<strong id="total-events">10</strong>' in html
    assert "resting on at least 3 devices" in html
    await cli.post("/logout", data={"csrf_token": csrf_from(html)})
    await login(cli, "helen")
    html = await (await cli.get("/")).text()
    assert ">linkedin</td><td>hidden<" in html  # the headteacher too


async def test_event_log_shows_cells_on_k_devices_filtered_and_paged(cli):
    await add_user(cli, "alice", "admin")
    token = await add_sensor(cli)
    batch = [event(time=f"2026-11-25T0{h}:00:00Z") for h in range(8)] + [
        event(platform="x", category="social_network", outcome="log", clauses=["7"])
        for _ in range(3)
    ]
    await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))
    await login(cli, "alice")
    html = await (await cli.get("/events?outcome=log")).text()
    assert html.count("<td>x</td>") == 1 and "<td>facebook</td>" not in html
    html = await (await cli.get("/events?clause=6.2&platform=facebook")).text()
    assert html.count("<td>facebook</td>") == 1 and "<td>8</td></tr>" in html
    assert 'id="hidden-cells">0<' in html
    bad = await cli.get("/events?from=yesterday")
    assert bad.status == 400
    assert (await cli.get("/events?cursor=2026-11-25T00:00:00Z,abc")).status == 400


async def test_csv_and_json_exports_follow_the_filter(cli):
    await add_user(cli, "alice", "admin")
    token = await add_sensor(cli)
    batch = [event() for _ in range(3)] + [event(outcome="block", rule="=cmd|' /C calc'!A0")]
    resp = await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))
    assert resp.status == 400  # a rule id is an identifier: formula text never gets in
    batch[-1]["rule"] = event()["rule"]
    batch += [event(outcome="block") for _ in range(2)]
    await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))
    await login(cli, "alice")
    resp = await cli.get("/events/export?outcome=warn&format=csv")
    assert resp.headers["Content-Disposition"].startswith("attachment")
    lines = (await resp.text()).splitlines()
    assert lines[-1].startswith("# 0 cells hidden")
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[:-1]))))
    assert len(rows) == 1 and rows[0]["clauses"] == "6.2 7" and rows[0]["events"] == "3"
    assert "device" not in rows[0] and "id" not in rows[0]
    resp = await cli.get("/events/export?format=json")
    lines = [orjson.loads(line) for line in (await resp.text()).splitlines()]
    assert len(lines) == 3 and lines[0]["clauses"] == ["6.2", "7"]
    assert lines[-1]["hidden_cells"] == 0 and lines[-1]["k"] == 3


async def test_an_account_becomes_allowed_only_when_the_headteacher_approves_it(cli):
    await add_user(cli, "alice", "admin")
    await add_user(cli, "helen", "headteacher")
    token = await add_sensor(cli)
    await login(cli, "alice")
    resp = await form_post(
        cli,
        "/accounts",
        "/accounts",
        {
            "id": "wycliffe-fb",
            "platform": "facebook",
            "account_id": "100012345678901",
            "label": "Wycliffe CE Primary Facebook page",
            "kind": "page",
            "actions": "post",
        },
    )
    assert resp.status == 303
    bundle = await (await cli.get("/api/v1/bundle", headers=bearer(token))).json()
    assert bundle["accounts"] == []
    # an admin cannot approve
    resp = await form_post(cli, "/accounts", "/accounts/wycliffe-fb/approve", {})
    assert resp.status == 403
    html = await (await cli.get("/accounts")).text()
    await cli.post("/logout", data={"csrf_token": csrf_from(html)})
    await login(cli, "helen")
    resp = await form_post(cli, "/accounts", "/accounts/wycliffe-fb/approve", {})
    assert resp.status == 303
    bundle = await (await cli.get("/api/v1/bundle", headers=bearer(token))).json()
    [account] = bundle["accounts"]
    assert account["id"] == "wycliffe-fb" and account["approved_by"] == "helen"
    assert account["actions"] == ["post"] and account["kind"] == "page"
    assert account["expires_on"] == "2027-08-31"  # a bare approval: the end of the school year


async def test_settings_change_the_bundle_and_the_privacy_page(cli):
    await add_user(cli, "helen", "headteacher")
    token = await add_sensor(cli)
    await login(cli, "helen")
    resp = await form_post(
        cli,
        "/settings",
        "/settings",
        {"privacy_level": "stable", "k_anonymity": "5", "retention_days": "30"},
    )
    assert resp.status == 303
    bundle = await (await cli.get("/api/v1/bundle", headers=bearer(token))).json()
    assert bundle["privacy"]["level"] == "stable" and "key" not in bundle["privacy"]
    assert bundle["settings"]["retention_days"] == 30
    cli.session.cookie_jar.clear()
    page = await cli.get("/privacy")
    assert page.status == 200
    html = await page.text()
    assert "deleted after 30 days" in html and "stable" in html
    # As shipped, clause 7 warns outside working time too, and the page says so, not "less".
    assert "Outside working time personal use is warned too" in html
    assert "never opened: Staff Wi-Fi (own devices), Visitors and contractors" in html


async def test_every_admin_action_is_in_the_audit_log_and_an_edit_is_detected(cli):
    await add_user(cli, "alice", "admin")
    await login(cli, "alice")
    await form_post(cli, "/sensors", "/sensors", {"name": "library-proxy"})
    html = await (await cli.get("/audit")).text()
    assert "sensor.add" in html and "hash chain is intact" in html
    async with cli.server.app[ENGINE].begin() as conn:
        await conn.execute(
            text("UPDATE audit_log SET actor = 'mallory' WHERE action = 'sensor.add'")
        )
    async with cli.server.app[ENGINE].connect() as conn:
        _count, problems = await audit.verify(conn)
    assert problems and "changed" in problems[0]


async def test_the_reporting_api_streams_ndjson_cells_with_cursor_pages_for_an_api_token(cli):
    await add_user(cli, "alice", "admin")
    sensor = await add_sensor(cli)
    batch = [event(time=f"2026-11-2{d}T10:00:00Z") for d in range(3, 6) for _ in range(3)]
    await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(sensor))
    await login(cli, "alice")
    resp = await form_post(cli, "/users", "/tokens", {"name": "siem"})
    token = (await resp.text()).split('id="new-api-token">')[1].split("<")[0]
    assert (await cli.get("/api/v1/events")).status == 401
    assert (await cli.get("/api/v1/events", headers=bearer(sensor))).status == 401
    resp = await cli.get("/api/v1/events?limit=2", headers=bearer(token))
    assert resp.headers["Content-Type"].startswith("application/x-ndjson")
    *first, summary = [orjson.loads(line) for line in (await resp.text()).splitlines()]
    assert [(c["day"], c["events"]) for c in first] == [("2026-11-23", 3), ("2026-11-24", 3)]
    assert summary["next_cursor"] == "2026-11-25,0" and summary["hidden_cells"] == 0
    cursor = summary["next_cursor"]
    resp = await cli.get(f"/api/v1/events?limit=2&cursor={cursor}", headers=bearer(token))
    *rest, summary = [orjson.loads(line) for line in (await resp.text()).splitlines()]
    assert [c["day"] for c in rest] == ["2026-11-25"] and "next_cursor" not in summary


async def test_term_dates_edited_in_the_settings_reach_the_bundle(cli):
    await add_user(cli, "alice", "admin")
    token = await add_sensor(cli)
    await login(cli, "alice")
    html = await (await cli.get("/settings")).text()
    assert "Autumn term 2026, 2026-09-02, 2026-12-18" in html
    resp = await form_post(
        cli,
        "/settings",
        "/settings/schedule",
        {
            "terms": "Autumn term 2026, 2026-09-03, 2026-12-17\n"
            "Spring term 2027, 2027-01-06, 2027-03-26",
            "closures": "Autumn half term, 2026-10-26, 2026-10-30",
        },
    )
    assert resp.status == 303
    bundle = await (await cli.get("/api/v1/bundle", headers=bearer(token))).json()
    assert bundle["schedule"]["terms"][0] == {
        "name": "Autumn term 2026",
        "start": "2026-09-03",
        "end": "2026-12-17",
    }
    assert [c["name"] for c in bundle["schedule"]["closures"]] == ["Autumn half term"]
    bad = await form_post(cli, "/settings", "/settings/schedule", {"terms": "Autumn, soon, later"})
    assert bad.status == 400


async def test_the_clause_map_is_public_lists_every_clause_and_follows_the_settings(cli):
    # Issue 17 §3: one page, linked from /privacy, made from the policy, rules and settings.
    html = await (await cli.get("/privacy")).text()
    assert 'href="/clauses"' in html
    page = await cli.get("/clauses")
    assert page.status == 200
    html = await page.text()
    assert html.count('<tr id="clause-') == 74
    assert 'id="clause-11.3.1.5"' in html and "No entry yet" not in html
    row = html.split('<tr id="clause-6.2">', 1)[1].split("</tr>", 1)[0]
    assert "Rule <code>reference</code>" in row and "it cannot be sent" in row
    row = html.split('<tr id="clause-8">', 1)[1].split("</tr>", 1)[0]
    assert "Conduct the software does not judge" in row and "in sight of children" in row
    row = html.split('<tr id="clause-7">', 1)[1].split("</tr>", 1)[0]
    assert "<code>post-outside-working-time</code>: posting or commenting" in row
    assert "outside working time: held (not sent) with the warning" in row
    await add_user(cli, "helen", "headteacher")
    await login(cli, "helen")
    resp = await form_post(
        cli,
        "/settings",
        "/settings",
        {
            "privacy_level": "daily",
            "k_anonymity": "3",
            "retention_days": "90",
            "personal_use_outside_working_time": "log",
        },
    )
    assert resp.status == 303
    cli.session.cookie_jar.clear()
    html = await (await cli.get("/clauses")).text()
    row = html.split('<tr id="clause-7">', 1)[1].split("</tr>", 1)[0]
    assert "outside working time: allowed and recorded, no warning" in row
