"""The anonymised event: what leaves a sensor. No URL path or query, no address, no content,
no personal account id, no name: the fields below are all there is.

This is the one definition of the event contract. Each field of `Event` carries its `FieldSpec`
(pattern from policy.ids, stored width, description, what a refused value is told); its type
annotation gives the JSON type, whether it may be null and its closed vocabulary. Everything else
is derived: `EVENT_FIELDS` (the outbox, the API, the exports), `EVENT_SPECS` (the store's columns,
the ingest validator), `EVENT_SCHEMA` (the OpenAPI document), `event_problems` (the check every
incoming event passes) and the field table of docs/sensor-api.md (a test compares them).
"""

import hashlib
import hmac
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast, get_args, get_origin, get_type_hints

from policy import ids
from policy.facts import Decision
from policy.vocabulary import AccountKind, Action, Category, Outcome

Response = Literal["none", "continued", "went_back"]
RESPONSES: tuple[str, ...] = get_args(Response)

MAX_CLAUSES = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """How one event field travels and rests. Written once per field (`_spec`); `name`,
    `json_type`, `nullable` and `enum` are filled in from the field and its annotation."""

    doc: str
    problem: str = ""
    """What ingest says of a refused value (enums: the allowed values)."""
    max_length: int = 0
    """The widest stored value: the store's column width. For a list (stored as a list), the
    most its items may take joined with a comma around each (`,6.2,7,`): the limit sensors were
    built to, which ingest checks too."""
    pattern: re.Pattern[str] | None = None
    """For a list, the pattern of each item."""
    max_items: int | None = None
    name: str = ""
    json_type: Literal["string", "boolean", "array"] = "string"
    nullable: bool = False
    enum: tuple[str, ...] = ()
    check: Callable[[object], bool] = bool
    """`accepts`, compiled once from the above (ingest runs it for every field of every event)."""

    def accepts(self, value: object) -> bool:
        """True if `value` (as parsed from JSON) is a good value for this field."""
        return self.check(value)

    def json_schema(self) -> dict[str, Any]:
        """This field as JSON Schema (2020-12, as OpenAPI 3.1 uses)."""
        item: dict[str, Any]
        if self.enum:
            item = {"enum": list(self.enum)}
        elif self.json_type == "boolean":
            item = {"type": "boolean"}
        else:
            item = {"type": "string"}
            if self.pattern is not None:
                item["pattern"] = self.pattern.pattern
        if self.json_type == "array":
            item = {"type": "array", "items": item}
            if self.max_items is not None:
                item["maxItems"] = self.max_items
        schema = {"oneOf": [item, {"type": "null"}]} if self.nullable else item
        return {"description": self.doc, **schema}


def _spec(
    doc: str,
    *,
    problem: str = "",
    max_length: int = 0,
    pattern: re.Pattern[str] | None = None,
    max_items: int | None = None,
) -> dict[str, FieldSpec]:
    return {
        "spec": FieldSpec(
            doc=doc, problem=problem, max_length=max_length, pattern=pattern, max_items=max_items
        )
    }


_ID_PROBLEM = "expected an id like 'facebook' (a-z, 0-9, '_', '.', '-')"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One decision worth recording, anonymised by construction (built by the sensors, unchecked:
    `Event.from_json` and `event_problems` check what arrives)."""

    id: str = field(
        metadata=_spec(
            "Unique (uuid4 hex): a batch resent after a timeout is stored once.",
            problem="expected 32 lowercase hex digits",
            max_length=32,
            pattern=ids.EVENT_ID,
        )
    )
    time: str = field(
        metadata=_spec(
            "UTC, `YYYY-MM-DDTHH:MM:SSZ`, rounded down to the configured granularity.",
            problem="expected YYYY-MM-DDTHH:MM:SSZ",
            max_length=20,
            pattern=ids.UTC_TIME,
        )
    )
    sensor: str = field(
        metadata=_spec(
            "The sensor's name; must be the name of the sensor whose token is used.",
            problem="expected a sensor name",
            max_length=64,
            pattern=ids.SENSOR_NAME,
        )
    )
    device: str | None = field(
        metadata=_spec(
            "HMAC pseudonym of the device (privacy level daily or stable), or null (none).",
            problem="expected 32 lowercase hex digits or null",
            max_length=32,
            pattern=ids.DEVICE_PSEUDONYM,
        )
    )
    platform: str = field(
        metadata=_spec(
            "Catalogue platform id.", problem=_ID_PROBLEM, max_length=64, pattern=ids.PLATFORM_ID
        )
    )
    category: Category = field(metadata=_spec("The platform's category.", max_length=32))
    action: Action = field(metadata=_spec("What the request did.", max_length=16))
    outcome: Outcome = field(metadata=_spec("What the rules decided.", max_length=8))
    clauses: tuple[str, ...] = field(
        metadata=_spec(
            'The clause ids that apply, most specific first, like `"8.1"` (at most 20, and '
            "200 characters with a comma around each).",
            problem='expected a list of clause ids like "8.1"',
            max_length=200,
            pattern=ids.CLAUSE_ID,
            max_items=MAX_CLAUSES,
        )
    )
    rule: str = field(
        metadata=_spec(
            "The id of the rule that decided.",
            problem=_ID_PROBLEM,
            max_length=64,
            pattern=ids.RULE_ID,
        )
    )
    working_time: bool = field(
        metadata=_spec(
            "In working time by the school's schedule.", problem="expected true or false"
        )
    )
    device_group: str = field(
        metadata=_spec(
            "The configured device group id.",
            problem=_ID_PROBLEM,
            max_length=64,
            pattern=ids.DEVICE_GROUP_ID,
        )
    )
    account: AccountKind = field(metadata=_spec("Whose account was used.", max_length=8))
    school_account: str | None = field(
        metadata=_spec(
            "The approved school account's id (the school's, not a person's), or null.",
            problem="expected a school account id or null",
            max_length=64,
            pattern=ids.ACCOUNT_ID,
        )
    )
    policy_version: str = field(
        metadata=_spec(
            "The version of the policy document in force.",
            problem="expected a policy version id",
            max_length=64,
            pattern=ids.POLICY_VERSION,
        )
    )
    response: Response = field(
        default="none",
        metadata=_spec(
            "none, continued (said it was school business), went_back (heeded the warning).",
            max_length=16,
        ),
    )
    reason_category: str | None = field(
        default=None,
        metadata=_spec(
            "For `continued` only, else null: the id of the reason chosen from the settings' "
            "continue reasons (never free text).",
            problem="expected a continue reason id or null",
            max_length=64,
            pattern=ids.REASON_ID,
        ),
    )

    held: bool = field(
        default=False,
        metadata=_spec(
            "The act (a post, message, reference or friend request) was held: the sensor did not "
            "send it and showed the clause instead. The follow-up events of a held act "
            "(continued, went_back) say true too. Absent in an event from an older sensor: false.",
            problem="expected true or false",
        ),
    )

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["clauses"] = list(self.clauses)
        return data

    @classmethod
    def from_json(cls, data: object) -> "Event":
        """Parse an event at the edge; ValueError names every problem."""
        problems = event_problems(data)
        if problems:
            raise ValueError(
                "; ".join(f"{name or 'event'}: {message}" for name, message in problems)
            )
        return cls.from_checked(cast(Mapping[str, Any], data))

    @classmethod
    def from_checked(cls, data: Mapping[str, Any]) -> "Event":
        """The event of a JSON event that `event_problems` found good (not checked again); an
        added field it leaves out takes the value its absence means."""
        # Ingest makes one per event it receives: the slots are filled as the frozen __init__
        # would fill them, at a third of its cost.
        event = object.__new__(cls)
        for name, put in _SLOTS:
            put(event, data[name] if name in data else ADDED_FIELDS[name])
        _SET_CLAUSES(event, tuple(data["clauses"]))
        return event


def _shape(annotation: Any) -> tuple[Literal["string", "boolean", "array"], bool, tuple[str, ...]]:
    """(JSON type, nullable, closed vocabulary) of a field's annotation."""
    args = get_args(annotation)
    nullable = isinstance(annotation, types.UnionType) and type(None) in args
    if nullable:
        (annotation,) = (a for a in args if a is not type(None))
    if get_origin(annotation) is Literal:
        return "string", nullable, tuple(get_args(annotation))
    if annotation is bool:
        return "boolean", nullable, ()
    if get_origin(annotation) is tuple:
        return "array", nullable, ()
    if annotation is str:
        return "string", nullable, ()
    raise TypeError(f"an event field cannot be {annotation!r}")


def _checker(spec: FieldSpec) -> Callable[[object], bool]:
    """The check of one field: type, then closed vocabulary or pattern, then null and length."""
    one: Callable[[object], bool]
    if spec.enum:
        allowed = frozenset(spec.enum)

        def one(v: object) -> bool:
            return type(v) is str and v in allowed

    elif spec.pattern is not None:
        match = spec.pattern.fullmatch

        def one(v: object) -> bool:
            return type(v) is str and match(v) is not None

    else:

        def one(v: object) -> bool:
            return type(v) is str

    check: Callable[[object], bool]
    if spec.json_type == "boolean":

        def check(v: object) -> bool:
            return type(v) is bool

    elif spec.json_type == "array":
        most = spec.max_items if spec.max_items is not None else float("inf")

        widest = spec.max_length

        def check(v: object) -> bool:
            # The joined ids (a comma around each) within the width sensors keep to.
            return (
                type(v) is list
                and len(v) <= most
                and all(map(one, v))
                and sum(map(len, v)) + len(v) + 1 <= widest
            )

    else:
        check = one
    if not spec.nullable:
        return check

    def or_null(v: object) -> bool:
        return v is None or check(v)

    return or_null


def _specs() -> tuple[FieldSpec, ...]:
    hints = get_type_hints(Event)
    specs = []
    for f in fields(Event):
        json_type, nullable, enum = _shape(hints[f.name])
        spec = replace(
            f.metadata["spec"], name=f.name, json_type=json_type, nullable=nullable, enum=enum
        )
        if enum and not spec.problem:
            spec = replace(spec, problem=f"expected one of {', '.join(sorted(enum))}")
        specs.append(replace(spec, check=_checker(spec)))
    return tuple(specs)


EVENT_SPECS: tuple[FieldSpec, ...] = _specs()
"""Every field's spec, in the event's order."""
EVENT_FIELDS: tuple[str, ...] = tuple(s.name for s in EVENT_SPECS)
"""The event's field names, in order: the one list the outbox, the API and the exports share."""
SPECS: Mapping[str, FieldSpec] = {s.name: s for s in EVENT_SPECS}

ADDED_FIELDS: Mapping[str, object] = {"held": False}
"""Fields added to the event after sensors first shipped, with the value an event without one
means: a sensor from before (an extension not yet updated, a proxy's outbox written before the
upgrade) is not refused for leaving them out; ingest stores the value given here."""


_SLOTS: tuple[tuple[str, Callable[[Event, object], None]], ...] = tuple(
    (name, getattr(Event, name).__set__) for name in EVENT_FIELDS
)
_SET_CLAUSES = dict(_SLOTS)["clauses"]


def with_added_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with every added field it leaves out set to the value its absence means."""
    return {**ADDED_FIELDS, **data}


_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
REAL_UTC_TIME = re.compile(
    f"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"
)
"""The times `event_problems` accepts (`ids.UTC_TIME` and `real_time`) as one regex: JSON Schema
cannot call `real_time`, so the schema says it this way (years 0001 to 9999, leap days only in
leap years). A test checks the two agree."""


def _properties() -> dict[str, Any]:
    properties = {s.name: s.json_schema() for s in EVENT_SPECS}
    properties["time"]["pattern"] = REAL_UTC_TIME.pattern
    return properties


EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An anonymised event (policy.event.Event).",
    "additionalProperties": False,
    "required": [name for name in EVENT_FIELDS if name not in ADDED_FIELDS],
    "properties": _properties(),
    "if": {"properties": {"response": {"not": {"const": "continued"}}}},
    "then": {"properties": {"reason_category": {"type": "null"}}},
}
"""The event as JSON Schema: the OpenAPI document's `Event`. Checks beyond it: `time` within the
service's window, `sensor` the token's sensor, the ids known to the service's catalogue, and the
clause ids joined with a comma around each at most 200 characters."""

_FIELD_SET = frozenset(EVENT_FIELDS)
_CHECKS = tuple((s.name, s.check, s.problem) for s in EVENT_SPECS)
_TIME_CHECK = SPECS["time"].check
_REASON_CHECK = SPECS["reason_category"].check


def event_problems(data: object) -> list[tuple[str, str]]:
    """Everything wrong with one JSON event against the contract, as (field, message); empty
    when it is a good event. Every field is checked, so a sensor learns all its mistakes at once.
    """
    if not isinstance(data, dict):
        return [("", "an event is a JSON object")]
    keys = data.keys()
    if keys == _FIELD_SET:  # the common case, kept quick: ingest checks every event it receives
        problems = [(name, problem) for name, check, problem in _CHECKS if not check(data[name])]
    else:
        problems = [(str(extra)[:64], "unknown field") for extra in sorted(keys - _FIELD_SET)]
        problems += [
            (name, "required field is missing")
            for name in EVENT_FIELDS
            if name not in data and name not in ADDED_FIELDS
        ]
        problems += [
            (name, problem)
            for name, check, problem in _CHECKS
            if name in data and not check(data[name])
        ]
    time = data.get("time")
    if _TIME_CHECK(time) and not real_time(cast(str, time)):
        problems.append(("time", "not a real date and time"))
    reason = data.get("reason_category")
    if reason is not None and _REASON_CHECK(reason):
        if data.get("response") != "continued":
            problems.append(("reason_category", "only an event with response 'continued' has one"))
    return problems


def real_time(value: str) -> bool:
    """True if a time of the right form is a real date and time (not the 30th of February)."""
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def coarsen(at: datetime, minutes: int) -> str:
    """Round down to `minutes` in UTC, so an event's time says when, but not to the second."""
    utc = at.astimezone(UTC).replace(second=0, microsecond=0)
    utc -= timedelta(minutes=utc.minute % minutes)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def pseudonym(key: bytes, device_id: str) -> str:
    """HMAC-SHA256 of the device id under the day's salt or the long-lived key (hex, 128 bits)."""
    return hmac.new(key, device_id.encode(), hashlib.sha256).hexdigest()[:32]


def event_from_decision(
    decision: Decision,
    *,
    event_id: str,
    at: datetime,
    sensor: str,
    device: str | None,
    policy_version: str,
    granularity_minutes: int,
    response: str = "none",
    reason_category: str | None = None,
    held: bool = False,
) -> Event:
    if decision.platform is None or decision.category is None or decision.device_group is None:
        raise ValueError("only decisions about a catalogue platform on a known device group record")
    if response not in RESPONSES:
        raise ValueError(f"response must be one of {RESPONSES}, not {response!r}")
    return Event(
        id=event_id,
        time=coarsen(at, granularity_minutes),
        sensor=sensor,
        device=device,
        platform=decision.platform,
        # The bundle's catalogue was validated against the Category vocabulary when compiled.
        category=cast(Category, decision.category),
        action=decision.action,
        outcome=decision.outcome,
        clauses=decision.clauses,
        rule=decision.rule,
        working_time=decision.working_time,
        device_group=decision.device_group,
        account=decision.account,
        school_account=decision.school_account,
        policy_version=policy_version,
        response=cast(Response, response),
        reason_category=reason_category if response == "continued" else None,
        held=held,
    )
