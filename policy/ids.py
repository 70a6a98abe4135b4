"""Every id pattern, once: the configuration, the event, the store, the proxy and the extension
all check ids against these (the JSON Schema and the shared vectors carry the same sources).

Each is a compiled regex whose `.pattern` is its source, anchored with `^...$` so the same text
works in Python, JSON Schema and JavaScript. Check with `.fullmatch()` (in Python `$` also
matches before a final newline). Digits are `[0-9]`, not `\\d`: Python's `\\d` takes any Unicode
digit and JavaScript's does not, so the two languages would disagree.
"""

import re

IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
"""A configured id: platform, rule, device group, school account, continue reason, policy
version. Lower case, so an id in an event never differs from the configuration by case."""

PLATFORM_ID = RULE_ID = DEVICE_GROUP_ID = ACCOUNT_ID = REASON_ID = POLICY_VERSION = IDENTIFIER
"""Named uses of IDENTIFIER (`policy_version` is the policy document's configured version)."""

CLAUSE_ID = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,3}){0,4}$")
"""A clause number like `8.1`: up to five levels of up to three digits (what the store's
comma-joined clause column and the filters allow)."""

SENSOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
"""A registered sensor's name, as the proxy is configured with it and the store registers it.
No `.`: the store never accepted one, so a proxy named with one could never ship."""

EVENT_ID = re.compile(r"^[0-9a-f]{32}$")
"""uuid4 hex: a resent batch is stored once."""

DEVICE_PSEUDONYM = re.compile(r"^[0-9a-f]{32}$")
"""A 128-bit HMAC of a device id, in hex (policy.event.pseudonym)."""

UTC_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
"""UTC, ISO-8601 with Z and no fraction: sorts like time as text."""

HOSTNAME = re.compile(
    r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
"""A lower-case DNS name (at most 253 characters overall, checked separately)."""

PATTERNS: dict[str, re.Pattern[str]] = {
    "identifier": IDENTIFIER,
    "clause_id": CLAUSE_ID,
    "sensor_name": SENSOR_NAME,
    "event_id": EVENT_ID,
    "device_pseudonym": DEVICE_PSEUDONYM,
    "utc_time": UTC_TIME,
    "hostname": HOSTNAME,
}
"""By name, for documents and tests that list them all (the vectors' `_about`, the docs)."""
