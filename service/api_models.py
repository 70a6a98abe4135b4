"""The JSON bodies of the sensors' API around the Event, each defined once: the handlers check
requests and build answers with these models, and service.openapi describes them from the same
models (the Event itself is policy.event's). A test runs the OpenAPI document against a live
service, so a body changed here changes both, and a handler that strays fails that test."""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import core_schema

from policy import ids
from policy.event import EVENT_SCHEMA, REAL_UTC_TIME

MAX_EVENTS = 1000
"""Events in one batch; past it (or MAX_BYTES) the batch is refused whole with 413."""
MAX_BYTES = 1024 * 1024
MAX_ACCOUNT_REQUEST_BYTES = 16 * 1024


def _whole(value: Any) -> Any:
    """457.0 is the integer 457 in JSON (and its Schema): take it as one."""
    return int(value) if type(value) is float and value.is_integer() else value


# The bounds before the validator: after it, pydantic writes them into the JSON Schema as "ge"
# and "lt", which JSON Schema does not know, and the OpenAPI document let any integer through.
Count = Annotated[int, Field(ge=0, lt=2**31), BeforeValidator(_whole)]
UtcTime = Annotated[str, Field(pattern=REAL_UTC_TIME.pattern)]
"""A real UTC time, `YYYY-MM-DDTHH:MM:SSZ` (the Event's `time` says the same)."""
Identifier = Annotated[str, Field(pattern=ids.IDENTIFIER.pattern)]
ShortText = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
"""1 to 200 characters, not only spaces (kept without the spaces around)."""
Pseudonym = Annotated[str, Field(pattern=ids.DEVICE_PSEUDONYM.pattern)]


def _optional(schema: Any) -> Any:
    """A field that is left out when it has no value (never sent as null)."""
    return Annotated[schema | SkipJsonSchema[None], Field(json_schema_extra=_no_default)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class Body(BaseModel):
    """A request or answer body: exactly these fields, each of exactly its JSON type."""

    # Python's regexes, as policy.ids and str.strip() use: `\S` means what strip() keeps.
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        regex_engine="python-re",
        use_attribute_docstrings=True,
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# POST /api/v1/events -----------------------------------------------------------------------------


class SensorStatus(Body):
    """What a sensor says of itself with a batch: its outbox (pending, deferred ones included;
    dropped when full; refused by the service for good; the oldest pending time) and its clock
    when it sent the batch. Every field may be left out."""

    outbox_pending: Count = 0
    outbox_dropped: Count = 0
    outbox_rejected: Count = 0
    oldest_pending: UtcTime | None = None
    sent_at: UtcTime | None = None


class EventJson:
    """An event as it arrives, unchecked here: ingest checks each with policy.event's own check
    (every field named); the document refers to it as the `Event` schema (policy.event)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: Any) -> core_schema.CoreSchema:
        return core_schema.any_schema(ref="Event")

    @classmethod
    def __get_pydantic_json_schema__(cls, _schema: Any, _handler: Any) -> dict[str, Any]:
        return dict(EVENT_SCHEMA)


class EventBatch(Body):
    """A batch of events; `sensor_status` left out or null: no status with this batch."""

    events: Annotated[list[EventJson], Field(max_length=MAX_EVENTS)]
    """More than MAX_EVENTS is refused with 413 before this model sees the batch."""
    sensor_status: SensorStatus | None = None


class BatchAnswer(Body):
    """202: what was stored. An event whose only fault is a time more than a day ahead (the
    sensor's clock is ahead) is neither stored nor refused: `deferred` names it, with the
    service's time and how far ahead the sensor is; the sensor sends it again later."""

    stored: Count
    duplicates: Count
    deferred: _optional(list[Count]) = None
    service_time: _optional(UtcTime) = None
    clock_ahead_seconds: _optional(int) = None


BATCH_PROBLEMS = {
    "": "expected a JSON object with an 'events' list",
    "events": "expected a list of events",
    "sensor_status": "expected an object",
    "sensor_status.outbox_pending": "expected a count",
    "sensor_status.outbox_dropped": "expected a count",
    "sensor_status.outbox_rejected": "expected a count",
    "sensor_status.oldest_pending": "expected YYYY-MM-DDTHH:MM:SSZ or null",
    "sensor_status.sent_at": "expected YYYY-MM-DDTHH:MM:SSZ or null",
}
"""What ingest tells a sensor of each part of a batch it refuses (the events' own messages are
policy.event's)."""


class Problem(Body):
    index: int | None = Field(description="The event's place in the batch; null: the batch")
    field: str
    message: str


class Refusal(Body):
    """400: nothing was stored; every problem is named."""

    error: str
    problems: list[Problem]


class Failure(Body):
    error: str


class FieldProblem(Body):
    field: str
    message: str


class FieldRefusal(Body):
    """400: nothing was kept; every problem is named (none when the body is not JSON)."""

    error: str
    problems: _optional(list[FieldProblem]) = None


# POST /api/v1/account-requests -------------------------------------------------------------------


class AccountRequest(Body):
    """A member of staff asks, from a warning page, for an account to be approved as a school
    account. `kind` left out or null: the platform's only kind (a person's profile where it has
    several)."""

    platform: Identifier
    account_id: ShortText
    label: ShortText
    kind: Literal["account", "profile", "page"] | None = None


class Pending(Body):
    status: Literal["pending"] = "pending"


# /api/v1/investigation-checks --------------------------------------------------------------------


class Check(Body):
    """One device test of a countersigned investigation, as published to the sensors."""

    id: int
    investigation: int
    device: str
    opened_by: str
    countersigned_by: str
    requested_by: str
    requested_at: UtcTime
    expires_at: UtcTime


class Checks(Body):
    checks: list[Check]


class CheckAnswer(Body):
    """A sensor's answer: the device's pseudonym under its own key."""

    device: Pseudonym


class Answered(Body):
    status: Literal["answered"] = "answered"


# the other answers -------------------------------------------------------------------------------


class StaffReportReceipt(Body):
    reference: str
    received_on: date  # the school's day only: a time would narrow the report to a few events


def problems_of(exc: ValidationError, messages: dict[str, str]) -> list[tuple[str, str]]:
    """(field, message) for each part of a body that its model refused, each part once: unknown
    fields first (sorted), then the others in the model's order. `messages` says, by dotted
    path ("" the body itself), what is expected of each part."""
    unknown: set[str] = set()
    wrong: dict[str, str] = {}
    for error in exc.errors():
        path = ".".join(str(part)[:64] for part in error["loc"])
        if error["type"] == "extra_forbidden":
            unknown.add(path)
        else:
            known = path
            while known and known not in messages:  # a part of a known one: named as that one
                known = known.rpartition(".")[0]
            wrong.setdefault(known, messages.get(known, "not valid"))
    return [(path, "unknown field") for path in sorted(unknown)] + list(wrong.items())
