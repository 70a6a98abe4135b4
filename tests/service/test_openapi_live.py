"""The OpenAPI document, run against a live service: schemathesis (its `st run`, every phase and
check) sends a bounded, seeded set of generated requests to a real `clausewarden serve` process
with a sensor token and an API token, and fails on a server error or on any answer the document
does not describe (an undocumented status, a body not of its schema, a request the document
allows refused for its shape, one it forbids accepted, a method not served answered other than
405). Drift between the document and the service fails here."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service import sensor_store, user_store
from service.cli_support import open_store
from service.config import Config
from tests.support.events import an_event
from tests.support.net import free_port, stop, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
ST = [sys.executable, "-m", "schemathesis.cli"]
"""schemathesis' `st`, from the interpreter running the tests."""

SCHEMATHESIS_TOML = """
seed = 20261207
workers = 1
generation.database = "none"
generation.max-examples = 10
phases.stateful.enabled = false

[auth.openapi.sensorToken]
bearer = "${CW_SENSOR_TOKEN}"

[auth.openapi.apiToken]
bearer = "${CW_API_TOKEN}"

# A refusal no schema can say (the token's sensor, the clock, the catalogue) is a 400 to a request
# the document allows: tests/support/openapi_checks.py lets only those through.
[[operations]]
include-path = ["/api/v1/events", "/api/v1/account-requests", "/api/v1/staff-reports"]
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "413", "429", "5xx"
]
# Too large (documented): refused with 413.
checks.negative_data_rejection.expected-statuses = [
    "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"
]
"""


@dataclass
class Live:
    url: str
    sensor_token: str
    api_token: str
    folder: Path


def _seed(data: Path) -> tuple[str, str]:
    """A sensor and an admin's API token in the store of `data` (as the CLI would make them)."""

    async def run() -> tuple[str, str]:
        now = datetime.now(UTC)
        async with open_store(Config(data_dir=data)) as engine, engine.begin() as conn:
            sensor = await sensor_store.add_sensor(conn, "proxy1", actor="test", now=now)
            await user_store.add_user(
                conn, "ada", "admin", "a-long-password", actor="test", now=now
            )
            api = await user_store.add_api_token(
                conn, "schemathesis", user_name="ada", role="admin", now=now
            )
        return sensor, api

    return asyncio.run(run())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("openapi-live")
    data = folder / "data"
    sensor_token, api_token = _seed(data)
    port = free_port()
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "clausewarden", "serve", "--host", "127.0.0.1"]
        + ["--port", str(port), "--data-dir", str(data)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        wait_for_port(port, process, timeout=60)
        yield Live(f"http://127.0.0.1:{port}", sensor_token, api_token, folder)
        assert process.poll() is None, "serve exited during the test"
    finally:
        stop(process)
        log.close()


def test_the_answers_generated_requests_rarely_reach_are_as_the_document_says(live: Live) -> None:
    # A batch whose event is two days ahead (deferred, with the service's time and the skew), an
    # account request taken and one refused: answers a generated request seldom gets.
    import requests
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{live.url}/api/v1/openapi.json")
    sensor = {"Authorization": f"Bearer {live.sensor_token}"}
    ahead = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:00:00Z")
    batch = {"events": [an_event(time=ahead).to_json()], "sensor_status": {"sent_at": ahead}}
    answer = requests.post(f"{live.url}/api/v1/events", json=batch, headers=sensor, timeout=10)
    assert answer.status_code == 202 and answer.json()["deferred"] == [0], answer.text
    assert answer.json()["clock_ahead_seconds"] > 86400
    schema["/api/v1/events"]["POST"].validate_response(answer)
    asked = {"platform": "facebook", "account_id": "1000123", "label": " Year 6 "}
    for body, status in ((asked, 202), ({**asked, "platform": "myspace", "label": " "}, 400)):
        url = f"{live.url}/api/v1/account-requests"
        answer = requests.post(url, json=body, headers=sensor, timeout=10)
        assert answer.status_code == status, answer.text
        schema["/api/v1/account-requests"]["POST"].validate_response(answer)
    assert {p["field"] for p in answer.json()["problems"]} == {"platform", "label"}


def test_the_live_service_answers_as_its_openapi_document_says(live: Live) -> None:
    config = live.folder / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_TOML)
    env = {
        **os.environ,
        "CW_SENSOR_TOKEN": live.sensor_token,
        "CW_API_TOKEN": live.api_token,
        "SCHEMATHESIS_HOOKS": "tests.support.openapi_checks",
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        [*ST, "--config-file", str(config), "run", f"{live.url}/api/v1/openapi.json"]
        + ["--checks", "all", "--no-color"],
        cwd=live.folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    serve_log = (live.folder / "serve.log").read_text(errors="replace")
    assert result.returncode == 0, result.stdout + result.stderr + "\n--- serve:\n" + serve_log
