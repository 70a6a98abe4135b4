"""A report to the headteacher (clauses 8.1, 8.4, 5.3, 11.3.7): its fields, defined once.

A member of staff writes it on the proxy's form (`http://clausewarden.internal/tell`) or the
extension's; the sensor relays it to the service (`POST /api/v1/staff-reports`, see
docs/sensor-api.md). It is the one place a name enters ClauseWarden, typed by the staff member on
purpose; it never joins the anonymous events. The service checks the same limits.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

KINDS: Final[dict[str, str]] = {
    "contact": "A pupil or a parent/carer contacted me on social media (clause 8.1)",
    "safeguarding": "Something on social media may be a safeguarding concern (clause 8.4)",
    "misuse": "Misuse of social media (clause 5.3)",
    "reputation": "Content that disparages or reflects poorly on the school (clause 11.3.7)",
    "other": "Something else the Headteacher should know",
}
"""What the report is about: the id travels and is stored, the wording is shown."""

TEXT_LIMITS: Final[dict[str, int]] = {"what_happened": 4000, "name": 200, "contact": 200}
"""The most characters of each typed field (at least 1 each)."""

FIELDS: Final[frozenset[str]] = frozenset({"kind", "platform", *TEXT_LIMITS})
OTHER_PLATFORM: Final = "other"
"""`platform` is a catalogue id, this, or null (not said)."""

MAX_BODY_BYTES: Final = 16 * 1024

_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class StaffReport:
    kind: str
    platform: str | None
    what_happened: str
    name: str
    contact: str

    def to_json(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "platform": self.platform,
            "what_happened": self.what_happened,
            "name": self.name,
            "contact": self.contact,
        }


def check_report(
    body: object, platforms: Collection[str]
) -> tuple[StaffReport | None, list[dict[str, str]]]:
    """The report as it is kept (control characters dropped, the name and contact on one line),
    or the problems that refuse it: one {field, message} each."""
    if not isinstance(body, dict):
        return None, [{"field": "", "message": "expected a JSON object"}]
    problems = [
        {"field": str(extra)[:64], "message": "unknown field"}
        for extra in sorted(str(k) for k in body.keys() - FIELDS)
    ]
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        problems.append({"field": "kind", "message": f"one of {', '.join(KINDS)}"})
    platform = body.get("platform")
    if platform is not None and (
        not isinstance(platform, str) or (platform not in platforms and platform != OTHER_PLATFORM)
    ):
        problems.append(
            {"field": "platform", "message": "a platform of the catalogue, 'other' or null"}
        )
    texts: dict[str, str] = {}
    for name, most in TEXT_LIMITS.items():
        value = body.get(name)
        if not isinstance(value, str):
            problems.append({"field": name, "message": f"expected text, 1 to {most} characters"})
            continue
        value = _CONTROL.sub("", value).replace("\r\n", "\n").strip()
        if name != "what_happened":
            value = " ".join(value.split())
        if not 1 <= len(value) <= most:
            problems.append({"field": name, "message": f"expected 1 to {most} characters"})
        texts[name] = value
    if problems:
        return None, problems
    return (
        StaffReport(
            kind=str(kind),
            platform=None if platform in (None, OTHER_PLATFORM) else str(platform),
            what_happened=texts["what_happened"],
            name=texts["name"],
            contact=texts["contact"],
        ),
        [],
    )
