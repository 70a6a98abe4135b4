"""Investigations (clause 4.3): only with the stable privacy level; the headteacher opens one
with a reason; nothing can be tested until a governor countersigns; a test is published to the
sensors, which keep the key and answer with the device's pseudonym; the service answers the
headteacher with a count, never a list of identities; each step is audited."""

import secrets

from policy.event import pseudonym
from service import audit
from service.keys import ENGINE
from tests.support.forms import csrf_from, form_post
from tests.support.service import add_sensor, add_user, bearer, event, later, login


async def logout(cli) -> None:
    html = await (await cli.get("/investigations")).text()
    await cli.post("/logout", data={"csrf_token": csrf_from(html)})


REASON = "A parent reported a post made from a school laptop during lessons on 24 November."


async def go_stable(cli) -> None:
    resp = await form_post(
        cli,
        "/settings",
        "/settings",
        {"privacy_level": "stable", "k_anonymity": "3", "retention_days": "90"},
    )
    assert resp.status == 303


async def test_no_investigation_without_the_stable_level(cli):
    await add_user(cli, "helen", "headteacher")
    await login(cli, "helen")
    resp = await form_post(cli, "/investigations", "/investigations", {"reason": REASON})
    assert resp.status == 400


async def test_four_eyes_then_one_audited_test_of_a_named_device_answered_by_the_proxy(
    pg_or_sqlite_cli,
):
    cli = pg_or_sqlite_cli  # SQLite and PostgreSQL
    await add_user(cli, "helen", "headteacher")
    await add_user(cli, "gill", "governor")
    token = await add_sensor(cli)
    other = await add_sensor(cli, "proxy2")
    await login(cli, "helen")
    await go_stable(cli)
    bundle = await (await cli.get("/api/v1/bundle", headers=bearer(token))).json()
    assert bundle["privacy"] == {"level": "stable"}  # the key stays on the proxy
    key = secrets.token_bytes(32)  # the proxy's own key
    laptop = pseudonym(key, "10.0.0.42")
    batch = [event(device=laptop), event(device=laptop), event(device=pseudonym(key, "10.0.0.7"))]
    await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))

    resp = await form_post(cli, "/investigations", "/investigations", {"reason": REASON})
    assert resp.status == 303
    # not countersigned yet: no test, and nothing published to the sensors
    resp = await form_post(
        cli, "/investigations", "/investigations/1/test", {"device": "10.0.0.42"}
    )
    assert resp.status == 403
    checks = await (await cli.get("/api/v1/investigation-checks", headers=bearer(token))).json()
    assert checks == {"checks": []}
    # the headteacher cannot countersign her own investigation
    resp = await form_post(cli, "/investigations", "/investigations/1/countersign", {})
    assert resp.status == 403
    await logout(cli)

    await login(cli, "gill")
    resp = await form_post(cli, "/investigations", "/investigations/1/countersign", {})
    assert resp.status == 303
    # a governor does not test devices
    resp = await form_post(
        cli, "/investigations", "/investigations/1/test", {"device": "10.0.0.42"}
    )
    assert resp.status == 403
    await logout(cli)

    await login(cli, "helen")
    resp = await form_post(
        cli, "/investigations", "/investigations/1/test", {"device": "10.0.0.42"}
    )
    assert resp.status == 303
    page = await (await cli.get(resp.headers["Location"])).text()
    assert "Waiting for the proxy" in page

    # the proxy polls, finds the countersigned request, answers with the device's pseudonym
    got = await (await cli.get("/api/v1/investigation-checks", headers=bearer(token))).json()
    [check] = got["checks"]
    assert (check["device"], check["opened_by"], check["countersigned_by"]) == (
        "10.0.0.42",
        "helen",
        "gill",
    )
    url = f"/api/v1/investigation-checks/{check['id']}"
    answer = await cli.post(url, json={"device": laptop}, headers=bearer(token))
    assert answer.status == 202 and await answer.json() == {"status": "answered"}
    # answered once; a second answer from the same sensor is refused, and the check is no
    # longer published to it
    again = await cli.post(url, json={"device": laptop}, headers=bearer(token))
    assert again.status == 409
    got = await (await cli.get("/api/v1/investigation-checks", headers=bearer(token))).json()
    assert got == {"checks": []}
    # another proxy (its own key) has no events of that device
    other_key = secrets.token_bytes(32)
    answer = await cli.post(
        url, json={"device": pseudonym(other_key, "10.0.0.42")}, headers=bearer(other)
    )
    assert answer.status == 202

    page = await (await cli.get("/investigations")).text()
    assert "2 stored events match that device" in page and "proxy1, proxy2" in page
    assert laptop not in page  # never a pseudonym, never a list
    async with cli.server.app[ENGINE].connect() as conn:
        entries = [e.action for e in await audit.recent(conn)]
        _n, problems = await audit.verify(conn)
    assert "investigation.test" in entries and "investigation.countersign" in entries
    assert entries.count("investigation.test.answer") == 2
    assert problems == []


async def test_a_check_is_withdrawn_when_the_investigation_closes_or_the_day_passes(cli, clock):
    await add_user(cli, "helen", "headteacher")
    await add_user(cli, "gill", "governor")
    token = await add_sensor(cli)
    await login(cli, "helen")
    await go_stable(cli)
    for _ in range(2):
        await form_post(cli, "/investigations", "/investigations", {"reason": REASON})
    await logout(cli)
    await login(cli, "gill")
    for ident in (1, 2):
        await form_post(cli, "/investigations", f"/investigations/{ident}/countersign", {})
    await logout(cli)
    await login(cli, "helen")
    for ident in (1, 2):
        await form_post(
            cli, "/investigations", f"/investigations/{ident}/test", {"device": "10.0.0.42"}
        )
    await form_post(cli, "/investigations", "/investigations/1/close", {})
    got = await (await cli.get("/api/v1/investigation-checks", headers=bearer(token))).json()
    assert [c["investigation"] for c in got["checks"]] == [2]
    later(clock, hours=25)
    got = await (await cli.get("/api/v1/investigation-checks", headers=bearer(token))).json()
    assert got == {"checks": []}
    answer = await cli.post(
        "/api/v1/investigation-checks/2", json={"device": "ab" * 16}, headers=bearer(token)
    )
    assert answer.status == 404
    page = await (await cli.get("/investigations")).text()
    assert "No proxy answered" in page


async def test_a_sensor_answer_must_be_one_pseudonym(cli):
    token = await add_sensor(cli)
    for body in (
        {},
        {"device": "10.0.0.42"},
        {"device": "AB" * 16},
        [1],
        {"device": "ab" * 16, "x": 1},
    ):
        resp = await cli.post("/api/v1/investigation-checks/1", json=body, headers=bearer(token))
        assert resp.status == 400
    resp = await cli.get("/api/v1/investigation-checks", headers=bearer("cws_not-a-token"))
    assert resp.status == 401


async def test_admin_and_viewer_cannot_see_investigations(cli):
    await add_user(cli, "alice", "admin")
    await login(cli, "alice")
    assert (await cli.get("/investigations", allow_redirects=False)).status == 403
