"""The OpenAPI description of the JSON API (a test checks it against the real routes)."""

from typing import Any

from policy import ids
from policy.event import EVENT_SCHEMA
from policy.vocabulary import OUTCOMES
from service.ingest import MAX_EVENTS

_IDENT = {"type": "string", "pattern": ids.IDENTIFIER.pattern}
_CLAUSE = {"type": "string", "pattern": ids.CLAUSE_ID.pattern}
_TIME = {"type": "string", "pattern": ids.UTC_TIME.pattern}

EVENT = EVENT_SCHEMA
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
        "description": "`<time>,<id>` of the last event received: the next page follows it",
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
            "schemas": {"Event": EVENT},
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
                    "summary": "Stored events, oldest first, as NDJSON (streamed)",
                    "security": [{"apiToken": []}],
                    "parameters": _FILTERS,
                    "responses": {
                        "200": {
                            "description": "one event per line",
                            "content": {
                                "application/x-ndjson": {
                                    "schema": {"$ref": "#/components/schemas/Event"}
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
                    "summary": "Prometheus metrics",
                    "responses": {
                        "200": {
                            "description": "text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
    }
