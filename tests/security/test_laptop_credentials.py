"""Attacks with a laptop's credential (issue 16, section 1): anyone with a school laptop can read
what the extension holds. With it, at the stable level, an investigation check must not show the
device address under investigation or the approvers' names, and a made-up answer must be refused,
so the real answer can still be given. The proxy's sensor, which serves the address, still gets
and answers the check; a laptop's credential gets one only when the headteacher names it.

Against the real aiohttp application (real HTTP through aiohttp's test server) on a real SQLite
file; sensors made as `clausewarden sensor add --kind` makes them."""

import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policy.event import pseudonym  # noqa: E402
from service import audit, sensor_store  # noqa: E402
from service.app import create_app  # noqa: E402
from service.config import Config  # noqa: E402
from service.keys import ENGINE  # noqa: E402
from tests.support.forms import csrf_from, form_post  # noqa: E402
from tests.support.service import add_user, bearer, login, migrated  # noqa: E402

REASON = "A parent reported a post made from a school laptop during lessons on 24 November."
DEVICE = "10.0.0.42"


@pytest.fixture
async def cli(aiohttp_client: Any, tmp_path: Path) -> Any:
    config = Config(data_dir=migrated(tmp_path / "service"), background_tasks=False)
    return await aiohttp_client(create_app(config))


async def sensor(cli: Any, name: str, kind: str) -> str:
    async with cli.server.app[ENGINE].begin() as conn:
        return await sensor_store.add_sensor(
            conn, name, actor="test", now=datetime.now(UTC), kind=kind
        )


async def logout(cli: Any) -> None:
    html = await (await cli.get("/investigations")).text()
    await cli.post("/logout", data={"csrf_token": csrf_from(html)})


async def countersigned_investigation(cli: Any) -> None:
    """At the stable level: helen opens investigation 1, gill countersigns; helen is logged in."""
    await add_user(cli, "helen", "headteacher")
    await add_user(cli, "gill", "governor")
    await login(cli, "helen")
    resp = await form_post(
        cli,
        "/settings",
        "/settings",
        {"privacy_level": "stable", "k_anonymity": "3", "retention_days": "90"},
    )
    assert resp.status == 303
    resp = await form_post(cli, "/investigations", "/investigations", {"reason": REASON})
    assert resp.status == 303
    await logout(cli)
    await login(cli, "gill")
    resp = await form_post(cli, "/investigations", "/investigations/1/countersign", {})
    assert resp.status == 303
    await logout(cli)
    await login(cli, "helen")


async def ask(cli: Any, device: str, sensor_name: str = "") -> Any:
    return await form_post(
        cli, "/investigations", "/investigations/1/test", {"device": device, "sensor": sensor_name}
    )


async def checks(cli: Any, token: str) -> Any:
    resp = await cli.get("/api/v1/investigation-checks", headers=bearer(token))
    assert resp.status == 200
    return resp


async def test_a_laptops_credential_neither_reads_nor_answers_a_check_for_the_proxies(cli):
    proxy = await sensor(cli, "proxy1", "proxy")
    laptop = await sensor(cli, "laptop-7", "laptop")
    await countersigned_investigation(cli)
    assert (await ask(cli, DEVICE)).status == 303

    # The laptop's credential reads nothing: no address, no approver's name.
    got = await checks(cli, laptop)
    text = await got.text()
    assert await got.json() == {"checks": []}
    assert DEVICE not in text and "helen" not in text and "gill" not in text
    # ... and a made-up pseudonym is refused, so the real answer can still be given.
    made_up = {"device": secrets.token_hex(16)}
    resp = await cli.post("/api/v1/investigation-checks/1", json=made_up, headers=bearer(laptop))
    assert resp.status == 404

    # The proxy, which serves the address, gets the check and answers it.
    [check] = (await (await checks(cli, proxy)).json())["checks"]
    assert (check["device"], check["opened_by"], check["countersigned_by"]) == (
        DEVICE,
        "helen",
        "gill",
    )
    answer = {"device": pseudonym(secrets.token_bytes(32), DEVICE)}
    resp = await cli.post("/api/v1/investigation-checks/1", json=answer, headers=bearer(proxy))
    assert resp.status == 202
    page = await (await cli.get("/investigations")).text()
    assert "answered by proxy1)" in page
    async with cli.server.app[ENGINE].connect() as conn:
        answers = [e for e in await audit.recent(conn) if e.action == "investigation.test.answer"]
    assert [a.actor for a in answers] == ["sensor:proxy1"]


async def test_a_check_naming_one_laptop_reaches_that_laptop_alone(cli):
    proxy = await sensor(cli, "proxy1", "proxy")
    named = await sensor(cli, "laptop-7", "laptop")
    other = await sensor(cli, "laptop-8", "laptop")
    await countersigned_investigation(cli)
    # A name that is no sensor is refused with the fix, and nothing is published.
    resp = await ask(cli, DEVICE, "laptop-99")
    assert resp.status == 400 and "Sensors page" in await resp.text()
    assert (await ask(cli, DEVICE, "laptop-7")).status == 303

    for token in (other, proxy):
        assert await (await checks(cli, token)).json() == {"checks": []}
        resp = await cli.post(
            "/api/v1/investigation-checks/1",
            json={"device": secrets.token_hex(16)},
            headers=bearer(token),
        )
        assert resp.status == 404
    [check] = (await (await checks(cli, named)).json())["checks"]
    assert check["device"] == DEVICE
    resp = await cli.post(
        "/api/v1/investigation-checks/1",
        json={"device": secrets.token_hex(16)},
        headers=bearer(named),
    )
    assert resp.status == 202
    page = await (await cli.get("/investigations")).text()
    assert "asked of laptop-7 only" in page and "answered by laptop-7)" in page


async def test_the_sensors_page_makes_a_laptop_kind_sensor(cli):
    await add_user(cli, "alice", "admin")
    await login(cli, "alice")
    resp = await form_post(cli, "/sensors", "/sensors", {"name": "laptop-1", "kind": "laptop"})
    assert resp.status == 200
    async with cli.server.app[ENGINE].connect() as conn:
        assert (await sensor_store.get_sensor(conn, "laptop-1")).kind == "laptop"
    resp = await form_post(cli, "/sensors", "/sensors", {"name": "x", "kind": "phone"})
    assert resp.status == 400


async def test_an_enrolled_laptop_named_in_a_check_answers_with_the_count_of_its_events(cli):
    from service import enrolment
    from tests.support.laptops import Laptop
    from tests.support.service import event

    await sensor(cli, "proxy1", "proxy")
    secret = await sensor(cli, "laptops", "enrol")
    async with cli.server.app[ENGINE].begin() as conn:
        await enrolment.set_fleet_size(conn, 5, actor="test", now=datetime.now(UTC))
    laptop, other = Laptop(), Laptop()
    token = await laptop.enrolled(cli, secret)
    other_token = await other.enrolled(cli, secret)
    await countersigned_investigation(cli)  # stable from here
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:00Z")
    for who, tok, n in ((laptop, token, 3), (other, other_token, 1)):
        batch = [event(sensor=who.name, time=now) for _ in range(n)]
        resp = await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(tok))
        assert resp.status == 202, await resp.text()
    assert (await ask(cli, DEVICE, laptop.name)).status == 303
    assert await (await checks(cli, other_token)).json() == {"checks": []}
    [check] = (await (await checks(cli, token)).json())["checks"]
    resp = await cli.post(
        f"/api/v1/investigation-checks/{check['id']}",
        json={"device": secrets.token_hex(16)},
        headers=bearer(token),
    )
    assert resp.status == 202
    page = await (await cli.get("/investigations")).text()
    assert f"3 stored events match that device (answered by {laptop.name})" in page


async def test_the_headteacher_sees_each_answer_and_its_sensor_and_can_void_one(cli):
    from tests.support.service import event

    proxy = await sensor(cli, "proxy1", "proxy")
    other = await sensor(cli, "proxy2", "proxy")
    await countersigned_investigation(cli)
    seen = secrets.token_hex(16)  # the device under proxy2's key: 4 of its events
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:00Z")
    batch = [event(sensor="proxy2", device=seen, time=now) for _ in range(4)]
    resp = await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(other))
    assert resp.status == 202, await resp.text()
    assert (await ask(cli, DEVICE)).status == 303
    for token, device in ((proxy, secrets.token_hex(16)), (other, seen)):
        resp = await cli.post(
            "/api/v1/investigation-checks/1", json={"device": device}, headers=bearer(token)
        )
        assert resp.status == 202
    page = await (await cli.get("/investigations")).text()
    assert "4 stored events match" in page and "proxy2: 4 events" in page
    resp = await form_post(
        cli, "/investigations", "/investigations/checks/1/answers/proxy2/void", {}
    )
    assert resp.status == 303
    page = await (await cli.get("/investigations")).text()
    assert "0 stored events match that device (answered by proxy1)" in page
    assert "proxy2: 4 events (voided by helen)" in page
    async with cli.server.app[ENGINE].connect() as conn:
        assert "investigation.test.void" in [e.action for e in await audit.recent(conn)]
