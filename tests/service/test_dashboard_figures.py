"""The dashboard's figures on both stores (SQLite and PostgreSQL), through real HTTP: a day whose
figures all rest on ten devices hides none, and a clause on one device is not named
(tests/security/test_dashboard_hidden_figures.py says why, and tries more)."""

import re
import uuid

from tests.support.service import add_sensor, add_user, bearer, event, login


async def test_ten_devices_hide_nothing_and_a_clause_on_one_is_not_named(pg_or_sqlite_cli):
    cli = pg_or_sqlite_cli
    await add_user(cli, "alice", "admin")
    token = await add_sensor(cli)
    ten = [uuid.uuid4().hex for _ in range(10)]
    batch = [event(device=d, clauses=["7"]) for d in ten]
    batch += [event(device=d, clauses=["7"], response="went_back") for d in ten]
    resp = await cli.post("/api/v1/events", json={"events": batch}, headers=bearer(token))
    assert resp.status == 202
    await login(cli, "alice")
    html = await (await cli.get("/?days=7")).text()
    assert re.search(r"\b0 figures are hidden", html), "k = 3 and ten devices: nothing is hidden"
    one = event(
        device=ten[0],
        platform="linkedin",
        category="professional_network",
        action="reference",
        outcome="block",
        clauses=["6.2"],
    )
    resp = await cli.post("/api/v1/events", json={"events": [one]}, headers=bearer(token))
    assert resp.status == 202
    html = await (await cli.get("/?days=7")).text()
    assert "6.2" not in html, "the dashboard named a clause tried on one device"
