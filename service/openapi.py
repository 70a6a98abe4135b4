"""The OpenAPI description of the JSON API (a test checks it against the real routes)."""

from typing import Any

from policy import ids
from policy.event import EVENT_SCHEMA
from policy.staff_report import FIELDS as STAFF_REPORT_FIELDS
from policy.staff_report import KINDS as REPORT_KINDS
from policy.staff_report import TEXT_LIMITS as REPORT_TEXT_LIMITS
from policy.vocabulary import OUTCOMES
from service.ingest import MAX_EVENTS

_IDENT = {"type": "string", "pattern": ids.IDENTIFIER.pattern}
_CLAUSE = {"type": "string", "pattern": ids.CLAUSE_ID.pattern}
_TIME = {"type": "string", "pattern": ids.UTC_TIME.pattern}

EVENT = EVENT_SCHEMA
CELL = {
    "description": "One cell of the event log: the events of one local day that share every value "
    "below, shown only if they rest on at least k distinct devices (never a device, sensor, "
    "event id or time of day). The last line of a response is a Summary instead.",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "day",
        "platform",
        "category",
        "action",
        "outcome",
        "clauses",
        "working_time",
        "device_group",
        "account",
        "response",
        "events",
    ],
    "properties": {
        "day": {"type": "string", "format": "date"},
        "platform": EVENT_SCHEMA["properties"]["platform"],
        "category": EVENT_SCHEMA["properties"]["category"],
        "action": EVENT_SCHEMA["properties"]["action"],
        "outcome": EVENT_SCHEMA["properties"]["outcome"],
        "clauses": EVENT_SCHEMA["properties"]["clauses"],
        "working_time": EVENT_SCHEMA["properties"]["working_time"],
        "device_group": EVENT_SCHEMA["properties"]["device_group"],
        "account": EVENT_SCHEMA["properties"]["account"],
        "response": EVENT_SCHEMA["properties"]["response"],
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
PROBLEMS = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": ["integer", "null"]},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
ERROR = {"type": "object", "properties": {"error": {"type": "string"}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_AUTH_ERRORS = {
    "401": _json(ERROR, "no token, or an unknown one"),
    "403": _json(ERROR, "the token was revoked"),
}
_FILTERS = [
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "platform", "in": "query", "schema": _IDENT},
    {"name": "clause", "in": "query", "schema": _CLAUSE},
    {"name": "outcome", "in": "query", "schema": {"enum": list(OUTCOMES)}},
    {"name": "device_group", "in": "query", "schema": _IDENT},
    {"name": "working_time", "in": "query", "schema": {"enum": ["yes", "no"]}},
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
            "schemas": {"Event": EVENT, "EventCell": CELL, "Summary": SUMMARY},
        },
        "paths": {
            "/api/v1/events": {
                "post": {
                    "summary": "Store a batch of events (all or nothing, idempotent by id)",
                    "security": [{"sensorToken": []}],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["events"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "events": {
                                            "type": "array",
                                            "maxItems": MAX_EVENTS,
                                            "items": {"$ref": "#/components/schemas/Event"},
                                        },
                                        "sensor_status": {
                                            "type": "object",
                                            "properties": {
                                                "outbox_pending": {"type": "integer"},
                                                "outbox_dropped": {"type": "integer"},
                                                "oldest_pending": {
                                                    "oneOf": [_TIME, {"type": "null"}]
                                                },
                                            },
                                        },
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "202": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "stored": {"type": "integer"},
                                    "duplicates": {"type": "integer"},
                                },
                            },
                            "stored",
                        ),
                        "400": _json(PROBLEMS, "refused; nothing of the batch was stored"),
                        "413": _json(ERROR, "more than 1,000 events or 1 MiB"),
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
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/EventCell"},
                                            {"$ref": "#/components/schemas/Summary"},
                                        ]
                                    }
                                }
                            },
                        },
                        "400": _json(ERROR, "a bad filter"),
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
                        "200": _json({"type": "object"}, "the bundle (ETag header)"),
                        "304": {"description": "unchanged"},
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/account-requests": {
                "post": {
                    "summary": "Ask for an account to be approved as a school account",
                    "security": [{"sensorToken": []}],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["platform", "account_id", "label"],
                                    "properties": {
                                        "platform": _IDENT,
                                        "account_id": {"type": "string", "maxLength": 200},
                                        "label": {"type": "string", "maxLength": 200},
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "202": _json({"type": "object"}, "pending"),
                        "400": _json(PROBLEMS, "refused"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/investigation-checks": {
                "get": {
                    "summary": "The device tests of countersigned investigations this sensor has "
                    "not answered (level stable only; else an empty list)",
                    "security": [{"sensorToken": []}],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"checks": {"type": "array", "items": {}}},
                            },
                            "the open checks",
                        ),
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
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["device"],
                                    "properties": {
                                        "device": {"type": "string", "pattern": "^[0-9a-f]{32}$"}
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "202": _json({"type": "object"}, "answered"),
                        "400": _json(ERROR, "not a pseudonym"),
                        "404": _json(ERROR, "no such open check"),
                        "409": _json(ERROR, "answered already, or the level is not stable"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/staff-reports": {
                "post": {
                    "summary": "A report a member of staff wrote for the headteacher (Tell the "
                    "Headteacher): kept apart from the events, read by the headteacher alone",
                    "security": [{"sensorToken": []}],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": sorted(STAFF_REPORT_FIELDS - {"platform"}),
                                    "properties": {
                                        "kind": {"type": "string", "enum": list(REPORT_KINDS)},
                                        "platform": {"type": ["string", "null"], "maxLength": 64},
                                        **{
                                            name: {
                                                "type": "string",
                                                "minLength": 1,
                                                "maxLength": most,
                                            }
                                            for name, most in REPORT_TEXT_LIMITS.items()
                                        },
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "201": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "reference": {"type": "string"},
                                    "received_on": {"type": "string", "format": "date"},
                                },
                            },
                            "kept; the reference to show the member of staff",
                        ),
                        "400": _json(PROBLEMS, "refused; nothing kept"),
                        "413": _json(ERROR, "over 16 kB"),
                        "429": _json(ERROR, "too many reports from this sensor (Retry-After)"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness and database check",
                    "responses": {
                        "200": _json({"type": "object"}, "ok"),
                        "503": _json({"type": "object"}, "the database does not answer"),
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
                        "401": _json(ERROR, "no token, or an unknown one"),
                        "403": _json(ERROR, "revoked, or not of the admin or headteacher role"),
                    },
                }
            },
        },
    }
