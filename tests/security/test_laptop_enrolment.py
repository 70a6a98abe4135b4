"""Attacks on "one credential per laptop" (issue 16, section 1): the managed policy's enrolment
secret, which anyone at a laptop can read, can do nothing but enrol; each laptop's own key pair
gets its own short-lived session; a signature is not replayed; enrolments beyond the fleet size
the admin states wait for approval (20 against a fleet of 10); a laptop is revoked alone.

Against the real aiohttp application on a real SQLite file; the laptops' keys are real ECDSA P-256
keys (as WebCrypto makes them: the test signs as the extension does, raw r||s)."""

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service import sensor_store  # noqa: E402
from service.app import create_app  # noqa: E402
from service.config import Config  # noqa: E402
from service.keys import ENGINE  # noqa: E402
from tests.support.forms import form_post  # noqa: E402
from tests.support.laptops import Laptop  # noqa: E402
from tests.support.service import add_user, bearer, event, login, migrated  # noqa: E402


@pytest.fixture
async def cli(aiohttp_client: Any, tmp_path: Path) -> Any:
    config = Config(data_dir=migrated(tmp_path / "service"), background_tasks=False)
    return await aiohttp_client(create_app(config))


async def enrolment_secret(cli: Any) -> str:
    async with cli.server.app[ENGINE].begin() as conn:
        return await sensor_store.add_sensor(
            conn, "laptops", actor="test", now=datetime.now(UTC), kind="enrol"
        )


async def admin_sets_fleet(cli: Any, size: int) -> None:
    await add_user(cli, "alice", "admin")
    await login(cli, "alice")
    resp = await form_post(cli, "/sensors", "/sensors-fleet", {"fleet_size": str(size)})
    assert resp.status == 303


async def test_the_enrolment_secret_can_only_enrol(cli):
    secret = await enrolment_secret(cli)
    for method, path, body in (
        ("GET", "/api/v1/bundle", None),
        ("GET", "/api/v1/investigation-checks", None),
        ("POST", "/api/v1/events", {"events": [event(sensor="laptops")]}),
        ("POST", "/api/v1/investigation-checks/1", {"device": "ab" * 16}),
    ):
        resp = await cli.request(method, path, json=body, headers=bearer(secret))
        assert resp.status == 403, (path, await resp.text())
        assert "can only enrol" in (await resp.json())["error"]


async def test_each_laptop_signs_for_its_own_short_lived_session(cli):
    await admin_sets_fleet(cli, 10)
    secret = await enrolment_secret(cli)
    laptop, other = Laptop(), Laptop()
    assert (await laptop.enrol(cli, secret)).status == 201
    assert (await other.enrol(cli, secret)).status == 201
    assert laptop.name != other.name and laptop.name.startswith("laptop-")
    challenge = (await (await cli.get("/api/v1/enrol/challenge")).json())["challenge"]
    got = await laptop.session(cli, challenge)
    assert got.status == 200
    token = (await got.json())["token"]
    assert (await cli.get("/api/v1/bundle", headers=bearer(token))).status == 200
    # The same signed challenge again (a replay by whoever saw it) is refused.
    assert (await laptop.session(cli, challenge)).status == 403
    # Another key cannot open this laptop's session: its signature does not match.
    impostor = Laptop()
    impostor.name = laptop.name
    assert (await impostor.session(cli)).status == 403
    # Revoking one laptop leaves the other working.
    resp = await form_post(cli, "/sensors", f"/sensors/{laptop.name}/revoke", {})
    assert resp.status == 303
    assert (await cli.get("/api/v1/bundle", headers=bearer(token))).status == 403
    other_token = (await (await other.session(cli)).json())["token"]
    assert (await cli.get("/api/v1/bundle", headers=bearer(other_token))).status == 200
    # Nothing but the public key is kept: no private part, no session token in the clear.
    async with cli.server.app[ENGINE].connect() as conn:
        row = await sensor_store.get_sensor(conn, other.name)
    assert row.public_key == other.public_key and other_token not in str(tuple(row))


async def test_twenty_enrolments_against_a_fleet_of_ten(cli):
    await admin_sets_fleet(cli, 10)
    secret = await enrolment_secret(cli)
    laptops = [Laptop() for _ in range(20)]
    waiting = [(await (await lt.enrol(cli, secret)).json())["waiting"] for lt in laptops]
    assert waiting == [False] * 10 + [True] * 10
    page = await (await cli.get("/sensors")).text()
    assert "10 laptops enrolled of a fleet of 10" in page
    assert page.count("waiting for approval") == 10
    # A waiting laptop gets no session until the admin approves it.
    late = laptops[15]
    resp = await late.session(cli)
    assert resp.status == 403 and "approval" in (await resp.json())["error"]
    resp = await form_post(cli, "/sensors", f"/sensors/{late.name}/approve", {})
    assert resp.status == 303
    assert (await late.session(cli)).status == 200
    page = await (await cli.get("/sensors")).text()
    assert "11 laptops enrolled of a fleet of 10" in page
    assert page.count("waiting for approval") == 9


async def test_enrolments_with_the_secret_are_held_to_a_rate(cli):
    # The secret is readable: whoever holds it cannot enrol without bound (429 past the burst;
    # the fleet size and MAX_WAITING bound what is kept).
    from service import enrolment

    secret = await enrolment_secret(cli)
    statuses = []
    for _ in range(enrolment.MAX_WAITING + 110):
        statuses.append((await Laptop().enrol(cli, secret)).status)
        if statuses[-1] == 429:
            break
    assert statuses[-1] == 429
    assert 403 in statuses  # past MAX_WAITING, refused before the rate's burst was spent
