"""Investigations (clause 4.3): only with the stable privacy level; the headteacher opens one
with a reason; nothing can be tested until a governor countersigns; each test is audited and
answers with a count, never a list of identities."""

from svc_helpers import add_sensor, add_user, bearer, event, login

from policy.event import pseudonym
from service import audit
from service.keys import ENGINE
from tests.support.forms import csrf_from, form_post


async def logout(cli) -> None:
    html = await (await cli.get("/investigations")).text()
    await cli.post("/logout", data={"csrf_token": csrf_from(html)})


REASON = "A parent reported a post made from a school laptop during lessons on 24 November."


async def test_no_investigation_without_the_stable_level(cli):
    await add_user(cli, "helen", "headteacher")
    await login(cli, "helen")
    resp = await form_post(cli, "/investigations", "/investigations", {"reason": REASON})
    assert resp.status == 400


async def test_four_eyes_then_one_audited_test_of_a_named_device(cli):
    await add_user(cli, "helen", "headteacher")
    await add_user(cli, "gill", "governor")
    token = await add_sensor(cli)
    await login(cli, "helen")
    resp = await form_post(
        cli,
        "/settings",
        "/settings",
        {"privacy_level": "stable", "k_anonymity": "3", "retention_days": "90"},
    )
    assert resp.status == 303
    bundle = await (await cli.get("/api/v1/bundle", headers=bearer(token))).json()
    key = bytes.fromhex(bundle["privacy"]["key"])
    laptop = pseudonym(key, "10.0.0.42")
    batch = [event(device=laptop), event(device=laptop), event(device=pseudonym(key, "10.0.0.7"))]
    await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))

    resp = await form_post(cli, "/investigations", "/investigations", {"reason": REASON})
    assert resp.status == 303
    # not countersigned yet: no test
    resp = await form_post(
        cli, "/investigations", "/investigations/1/test", {"device": "10.0.0.42"}
    )
    assert resp.status == 403
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
    assert "2 stored events match that device" in page
    assert laptop not in page  # never a pseudonym, never a list
    async with cli.server.app[ENGINE].connect() as conn:
        entries = [e.action for e in await audit.recent(conn)]
        _n, problems = await audit.verify(conn)
    assert "investigation.test" in entries and "investigation.countersign" in entries
    assert problems == []


async def test_admin_and_viewer_cannot_see_investigations(cli):
    await add_user(cli, "alice", "admin")
    await login(cli, "alice")
    assert (await cli.get("/investigations", allow_redirects=False)).status == 403
