"""A clause that only may apply (issue 17: a message is not known to involve a pupil or a parent,
clause 8.1) travels in the event's `may_apply`, apart from the clauses that apply. Against a real
`clausewarden serve` process and its SQLite file: an older sensor's event, without the field, is
still taken (stored with none that may apply), a newer one's is stored as sent, and the export's
cells tell the two apart."""

import csv
import io
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.service import Service, event, start_service


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    served = start_service(tmp_path_factory.mktemp("may-apply") / "data", sensor="proxy1")
    try:
        yield served
        assert served.process is not None and served.process.poll() is None
    finally:
        served.stop()


def post(service: Service, events: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - the test's own service on loopback
        f"{service.url}/api/v1/events",
        data=json.dumps({"events": events}).encode(),
        headers={"Authorization": f"Bearer {service.token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def a_message(at: str, **fields: Any) -> dict[str, Any]:
    message = {
        "time": at,
        "platform": "linkedin",
        "category": "professional_network",
        "action": "message",
        "rule": "message-working-time",
        "clauses": ["7"],
        "may_apply": ["8.1"],
    }
    return event(**{**message, **fields})


def this_hour() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:00:00Z")


def test_an_older_sensors_event_without_may_apply_is_taken_and_stored_with_none(
    service: Service,
) -> None:
    at = this_hour()
    older = []
    for _ in range(3):  # three devices: k = 3, so the export shows the cells
        sent = a_message(at, clauses=["8.1", "7"])
        del sent["may_apply"], sent["held"]  # as a sensor from before both fields sends it
        older.append(sent)
    newer = [a_message(at) for _ in range(3)]
    assert post(service, [*older, *newer]) == (202, {"stored": 6, "duplicates": 0})

    stored = {row["id"]: row for row in service.events()}
    for sent in older:
        assert json.loads(stored[sent["id"]]["may_apply"]) == []
        assert json.loads(stored[sent["id"]]["clauses"]) == ["8.1", "7"]  # as its sensor said
    for sent in newer:
        assert json.loads(stored[sent["id"]]["may_apply"]) == ["8.1"]
        assert json.loads(stored[sent["id"]]["clauses"]) == ["7"]

    lines = service.cli("events", "export", "--format", "csv").splitlines()
    cells = list(csv.DictReader(io.StringIO("\n".join(line for line in lines if line[:1] != "#"))))
    got = sorted((c["clauses"], c["may_apply"], c["events"]) for c in cells if c["day"])
    assert ("7", "8.1", "3") in got and ("8.1 7", "", "3") in got


@pytest.mark.parametrize(
    ("may_apply", "message"),
    [
        (["7"], "a clause either applies or may apply, not both"),
        (["99.9"], "names a clause that this policy version does not have"),
        ("8.1", 'expected a list of clause ids like "8.1"'),
    ],
)
def test_an_event_whose_may_apply_is_wrong_is_refused_naming_the_field(
    service: Service, may_apply: object, message: str
) -> None:
    status, body = post(service, [a_message(this_hour(), id=uuid.uuid4().hex, may_apply=may_apply)])
    assert status == 400
    assert [(p["field"], p["message"]) for p in body["problems"]] == [("may_apply", message)]


def test_the_served_openapi_document_describes_may_apply(service: Service) -> None:
    with urllib.request.urlopen(f"{service.url}/api/v1/openapi.json", timeout=10) as response:  # noqa: S310
        schema = json.loads(response.read())["components"]["schemas"]["Event"]
    assert "may_apply" in schema["properties"] and "may_apply" not in schema["required"]
