"""The OpenAPI description of the JSON API, generated from the specs the service checks and
answers with: the Event from policy.event, the bodies around it from service.api_models, the
staff report from policy.staff_report. Tests check it against the real routes, and run it
(schemathesis) against a live service."""

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from policy import ids
from policy.event import EVENT_SCHEMA
from policy.staff_report import FIELDS as STAFF_REPORT_FIELDS
from policy.staff_report import KINDS as REPORT_KINDS
from policy.staff_report import MAX_BODY_BYTES as REPORT_MAX_BYTES
from policy.staff_report import TEXT_LIMITS as REPORT_TEXT_LIMITS
from policy.vocabulary import OUTCOMES
from service.api_models import (
    MAX_ACCOUNT_REQUEST_BYTES,
    MAX_BYTES,
    MAX_EVENTS,
    AccountRequest,
    Answered,
    BatchAnswer,
    CheckAnswer,
    Checks,
    EventBatch,
    Failure,
    FieldRefusal,
    Pending,
    Refusal,
    StaffReportReceipt,
)
from service.figures import LOG_DIMS
from service.ingest import CONTEXT_PROBLEMS

_IDENT = {"type": "string", "pattern": ids.IDENTIFIER.pattern}
_CLAUSE = {"type": "string", "pattern": ids.CLAUSE_ID.pattern}

_MODELS: tuple[type[BaseModel], ...] = (
    EventBatch,
    BatchAnswer,
    Refusal,
    Failure,
    FieldRefusal,
    AccountRequest,
    Pending,
    Checks,
    CheckAnswer,
    Answered,
    StaffReportReceipt,
)


def _strings(**props: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(props),
        "additionalProperties": False,
        "properties": {k: {"type": "string", "description": v} for k, v in props.items()},
    }


ENROLMENT_SCHEMAS: dict[str, Any] = {
    # One credential per laptop (service.enrolment, docs/sensor-api.md "Enrolment").
    "Enrolment": _strings(public_key="the laptop's ECDSA P-256 public key, SPKI DER, base64"),
    "Enrolled": {
        "type": "object",
        "required": ["sensor", "waiting"],
        "properties": {
            "sensor": {"type": "string", "description": "the laptop's own sensor name"},
            "waiting": {"type": "boolean", "description": "beyond the fleet: awaits approval"},
        },
    },
    "Challenge": _strings(challenge="the service's time and a nonce, to sign"),
    "SessionRequest": _strings(
        sensor="the laptop's sensor name",
        challenge="from GET /api/v1/enrol/challenge",
        signature="raw r||s ECDSA-SHA-256 of clausewarden-session\\n<sensor>\\n<challenge>, base64",
    ),
    "Session": _strings(token="the laptop's bearer token", expires_at="until then (UTC)"),  # noqa: S106
}


def _model_schemas() -> dict[str, Any]:
    """The models' JSON Schemas by name, the Event (policy.event) among them."""
    _, schemas = models_json_schema(
        [(model, "validation") for model in _MODELS], ref_template="#/components/schemas/{model}"
    )
    defs: dict[str, Any] = schemas["$defs"]
    return defs


CELL = {
    "description": "One cell of the event log: the events of one local day that share every value "
    "below, shown only if they rest on at least k distinct devices (never a device, sensor, "
    "event id or time of day). The last line of a response is a Summary instead.",
    "type": "object",
    "additionalProperties": False,
    "required": ["day", *LOG_DIMS, "events"],
    "properties": {
        "day": {"type": "string", "format": "date"},
        **{name: EVENT_SCHEMA["properties"][name] for name in LOG_DIMS},  # the cell's dimensions
        "events": {"type": "integer", "minimum": 1},
    },
}
SUMMARY = {
    "description": "The last line: how many cells of the days read are hidden (on fewer than k "
    "devices, or hidden so that no total can reveal one), and the next page's cursor if any.",
    "type": "object",
    "required": ["hidden_cells", "k", "note"],
    "properties": {
        "hidden_cells": {"type": "integer"},
        "k": {"type": "integer"},
        "note": {"type": "string"},
        "next_cursor": {"type": "string"},
    },
}
STAFF_REPORT = {
    "type": "object",
    "additionalProperties": False,
    "required": sorted(STAFF_REPORT_FIELDS - {"platform", "to"}),
    "properties": {
        "kind": {"type": "string", "enum": list(REPORT_KINDS)},
        "to": {
            "type": "string",
            "maxLength": 64,
            "description": "a recipient id of the bundle's report_recipients (absent: headteacher)",
        },
        "platform": {"type": ["string", "null"], "maxLength": 64},
        **{
            name: {"type": "string", "minLength": 1, "maxLength": most}
            for name, most in REPORT_TEXT_LIMITS.items()
        },
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


_AUTH_ERRORS = {
    "401": _json("Failure", "no token, or an unknown one"),
    "403": _json("Failure", "the token was revoked"),
}


def _too_many(what: str) -> dict[str, Any]:
    return {
        **_json("Failure", f"too many {what} from this sensor: retry after Retry-After seconds"),
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    }


def _unavailable() -> dict[str, Any]:
    return {
        "description": "the store cannot be written just now; nothing was kept (Retry-After)",
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
        "content": {"application/json": {"schema": {"type": "object"}}},
    }


_CONTEXT = "; ".join(f"{field}: {message}" for field, message in sorted(CONTEXT_PROBLEMS))


def _filter(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A filter of the event log: left out or empty, no filter."""
    return {"name": name, "in": "query", "schema": {"anyOf": [schema, {"const": ""}]}}


_FILTERS = [
    _filter("from", {"type": "string", "format": "date"}),
    _filter("to", {"type": "string", "format": "date"}),
    _filter("platform", _IDENT),
    _filter("clause", _CLAUSE),
    _filter("outcome", {"enum": list(OUTCOMES)}),
    _filter("device_group", _IDENT),
    _filter("working_time", {"enum": ["yes", "no", "true", "false"]}),
    {
        "name": "cursor",
        "in": "query",
        "description": "`<day>,<n>`: the last page's `next_cursor`, where the next page starts",
        "schema": {"type": "string"},
    },
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}},
]


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ClauseWarden service API",
            "version": "1",
            "description": "Sensors post anonymised events and fetch the policy bundle; "
            "reporting tools read events. See docs/sensor-api.md.",
        },
        "components": {
            "securitySchemes": {
                "sensorToken": {"type": "http", "scheme": "bearer"},
                "apiToken": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                **_model_schemas(),
                "StaffReport": STAFF_REPORT,
                "EventCell": CELL,
                "Summary": SUMMARY,
                **ENROLMENT_SCHEMAS,
            },
        },
        "paths": {
            "/api/v1/events": {
                "post": {
                    "summary": "Store a batch of events (all or nothing, idempotent by id)",
                    "security": [{"sensorToken": []}],
                    "requestBody": _body("EventBatch"),
                    "responses": {
                        "202": _json("BatchAnswer", "stored (or deferred: the sensor's clock)"),
                        "400": _json(
                            "Refusal",
                            "refused; nothing of the batch was stored. Besides what the schema "
                            "says, ingest refuses what depends on the token, its clock, retention "
                            f"period and catalogue ({_CONTEXT}), and an event whose clause ids, "
                            "joined with a comma around each, pass 200 characters",
                        ),
                        "413": _json(
                            "Failure", f"more than {MAX_EVENTS} events or {MAX_BYTES} bytes"
                        ),
                        "429": _too_many("batches"),
                        "503": _unavailable(),
                        **_AUTH_ERRORS,
                    },
                },
                "get": {
                    "summary": "The event log's cells (each on at least k devices), oldest day "
                    "first, as NDJSON (streamed); `limit` counts cells",
                    "security": [{"apiToken": []}],
                    "parameters": _FILTERS,
                    "responses": {
                        "200": {
                            "description": "one cell per line, then one Summary line",
                            "content": {
                                "application/x-ndjson": {
                                    "schema": {"oneOf": [_ref("EventCell"), _ref("Summary")]}
                                }
                            },
                        },
                        "400": _json("Failure", "a bad filter"),
                        **_AUTH_ERRORS,
                    },
                },
            },
            "/api/v1/bundle": {
                "get": {
                    "summary": "The compiled policy bundle with the privacy object",
                    "security": [{"sensorToken": []}],
                    "parameters": [
                        {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "the bundle (ETag header)",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "304": {"description": "unchanged"},
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/account-requests": {
                "post": {
                    "summary": "Ask for an account to be approved as a school account",
                    "security": [{"sensorToken": []}],
                    "requestBody": _body("AccountRequest"),
                    "responses": {
                        "202": _json("Pending", "waits for the headteacher's approval"),
                        "400": _json(
                            "FieldRefusal",
                            "refused: besides what the schema says, a platform of the "
                            "service's catalogue whose cookies carry that kind of account id",
                        ),
                        "413": _json("Failure", f"over {MAX_ACCOUNT_REQUEST_BYTES} bytes"),
                        "429": _too_many("requests"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/enrol": {
                "post": {
                    "summary": "Enrol a laptop's public key with the enrolment secret (which can "
                    "do nothing else)",
                    "security": [{"sensorToken": []}],
                    "requestBody": _body("Enrolment"),
                    "responses": {
                        "201": _json("Enrolled", "enrolled (or waiting for approval)"),
                        "400": _json("Failure", "not one public key"),
                        "401": _json("Failure", "no enrolment secret, or an unknown one"),
                        "403": _json("Failure", "revoked, not a P-256 key, or too many waiting"),
                        "429": _too_many("enrolments"),
                    },
                }
            },
            "/api/v1/enrol/challenge": {
                "get": {
                    "summary": "A challenge for an enrolled laptop to sign (no token)",
                    "responses": {"200": _json("Challenge", "the challenge")},
                }
            },
            "/api/v1/session": {
                "post": {
                    "summary": "An enrolled laptop's short-lived bearer token, for its signature "
                    "of a fresh challenge",
                    "requestBody": _body("SessionRequest"),
                    "responses": {
                        "200": _json("Session", "the token and its expiry"),
                        "400": _json("Failure", "not the three strings"),
                        "403": _json("Failure", "waiting, revoked, a bad signature or challenge"),
                    },
                }
            },
            "/api/v1/investigation-checks": {
                "get": {
                    "summary": "The device tests of countersigned investigations this sensor has "
                    "not answered (level stable only; else an empty list)",
                    "security": [{"sensorToken": []}],
                    "responses": {
                        "200": _json("Checks", "the open checks"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/investigation-checks/{id}": {
                "post": {
                    "summary": "A sensor's answer to one check: the device's pseudonym under its "
                    "own key (the service keeps only the count of matching events)",
                    "security": [{"sensorToken": []}],
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "requestBody": _body("CheckAnswer"),
                    "responses": {
                        "202": _json("Answered", "answered"),
                        "400": _json("Failure", "not a pseudonym"),
                        "404": _json("Failure", "no such open check"),
                        "409": _json("Failure", "answered already, or the level is not stable"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/staff-reports": {
                "post": {
                    "summary": "A report a member of staff wrote for the headteacher, a line "
                    "manager or the senior team (the Tell form): kept apart from the events, read "
                    "by its recipient alone",
                    "security": [{"sensorToken": []}],
                    "requestBody": _body("StaffReport"),
                    "responses": {
                        "201": _json(
                            "StaffReportReceipt", "kept; the reference to show the member of staff"
                        ),
                        "400": _json(
                            "FieldRefusal",
                            "refused; nothing kept (also for what the school's configuration "
                            "decides: a platform not in the catalogue, a recipient the school "
                            "does not have or one that does not receive that kind)",
                        ),
                        "413": _json("Failure", f"over {REPORT_MAX_BYTES} bytes"),
                        "429": _too_many("reports"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness and database check",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "503": _unavailable(),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (an API token of the admin or headteacher role)",
                    "security": [{"apiToken": []}],
                    "responses": {
                        "200": {
                            "description": "text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "401": _json("Failure", "no token, or an unknown one"),
                        "403": _json("Failure", "revoked, or not of the admin or headteacher role"),
                    },
                }
            },
        },
    }
