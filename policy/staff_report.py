"""A report a member of staff sends (clauses 8.1, 8.4, 10.2, 11.3.7 to the Headteacher; 5.3 and
12.3 to their line manager or the senior team): its fields and who may receive it, defined once.

A member of staff writes it on the proxy's form (`http://clausewarden.internal/tell`) or the
extension's; the sensor relays it to the service (`POST /api/v1/staff-reports`, see
docs/sensor-api.md). It is the one place a name enters ClauseWarden, typed by the staff member on
purpose; it never joins the anonymous events. The service checks the same limits.

Who receives what follows the clauses' own words: the Headteacher alone for what a clause sends to
the Headteacher (8.1, 8.4, 10.2, 11.3.7); the line manager for misuse (5.3); a senior member of
staff for questions on the policy (5.3); the line manager or the senior team for comments on it
(12.3). Until the school names a line manager or a senior team (settings.yaml,
`report_recipients`), the Headteacher receives those too, as before.
"""

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

ReportKind = Literal[
    "contact", "safeguarding", "press", "reputation", "misuse", "question", "comment", "other"
]
RecipientRole = Literal["line_manager", "senior_team"]

KINDS: Final[dict[str, str]] = {
    "contact": "A pupil or a parent/carer contacted me on social media (clause 8.1)",
    "safeguarding": "Something on social media may be a safeguarding concern (clause 8.4)",
    "press": "I was asked for comments about the school for publication (clause 10.2)",
    "reputation": "Content that disparages or reflects poorly on the school (clause 11.3.7)",
    "misuse": "Misuse of social media (clause 5.3)",
    "question": "A question about what this policy says or how it applies (clause 5.3)",
    "comment": "A comment on this policy or a way to improve it (clause 12.3)",
    "other": "Something else",
}
"""What the report is about: the id travels and is stored, the wording is shown."""

HEADTEACHER: Final = "headteacher"
"""The one recipient every school has: its reports are read by the headteacher role."""
HEADTEACHER_LABEL: Final = "the Headteacher"
HEADTEACHER_ONLY: Final = frozenset({"contact", "safeguarding", "press", "reputation"})
"""Their clauses name the Headteacher: no one else is offered for them."""
ROLE_KINDS: Final[dict[str, tuple[str, ...]]] = {
    "line_manager": ("misuse", "comment", "other"),
    "senior_team": ("question", "comment", "other"),
}
"""What each role may receive, by the clauses' words (5.3, 12.3); `other` to whom staff choose."""
ROLE_NAMES: Final[dict[str, str]] = {
    HEADTEACHER: "the Headteacher",
    "line_manager": "line manager",
    "senior_team": "senior team",
}
CLAUSE_OF: Final[dict[str, str]] = {
    "contact": "8.1",
    "safeguarding": "8.4",
    "press": "10.2",
    "reputation": "11.3.7",
}


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone the form offers: an id that travels, who they are, what they receive."""

    id: str
    role: str
    label: str
    receives: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "role": self.role, "label": self.label, "receives": [*self.receives]}


def recipients(configured: Sequence[Any]) -> tuple[Recipient, ...]:
    """The Headteacher first, then the school's `report_recipients` (settings.yaml) in order.

    The Headteacher receives what its clauses name and `other`, and whatever no one else the
    school named receives (a school without a line manager set keeps today's one inbox)."""
    others = tuple(
        Recipient(
            id=r.id,
            role=r.role,
            label=r.label,
            receives=tuple(
                k
                for k in KINDS
                if k in (r.receives or ROLE_KINDS[r.role]) and k in ROLE_KINDS[r.role]
            ),
        )
        for r in configured
    )
    covered = {k for r in others for k in r.receives}
    head = tuple(k for k in KINDS if k in HEADTEACHER_ONLY or k == "other" or k not in covered)
    return (Recipient(HEADTEACHER, HEADTEACHER, HEADTEACHER_LABEL, head), *others)


def receivers(configured: Sequence[Any]) -> dict[str, frozenset[str]]:
    """Recipient id -> the kinds they receive (what check_report holds a report to)."""
    return {r.id: frozenset(r.receives) for r in recipients(configured)}


TEXT_LIMITS: Final[dict[str, int]] = {"what_happened": 4000, "name": 200, "contact": 200}
"""The most characters of each typed field (at least 1 each)."""

FIELDS: Final[frozenset[str]] = frozenset({"kind", "platform", "to", *TEXT_LIMITS})
OTHER_PLATFORM: Final = "other"
"""`platform` is a catalogue id, this, or null (not said)."""

MAX_BODY_BYTES: Final = 16 * 1024

_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class StaffReport:
    kind: str
    to: str
    """The recipient's id (a sensor from before recipients sends none: the Headteacher)."""
    platform: str | None
    what_happened: str
    name: str
    contact: str

    def to_json(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "to": self.to,
            "platform": self.platform,
            "what_happened": self.what_happened,
            "name": self.name,
            "contact": self.contact,
        }


def check_report(
    body: object, platforms: Collection[str], receive: Mapping[str, Collection[str]]
) -> tuple[StaffReport | None, list[dict[str, str]]]:
    """The report as it is kept (control characters dropped, the name and contact on one line),
    or the problems that refuse it: one {field, message} each. `receive`: recipient id -> the
    kinds they receive (`receivers`)."""
    if not isinstance(body, dict):
        return None, [{"field": "", "message": "expected a JSON object"}]
    problems = [
        {"field": str(extra)[:64], "message": "unknown field"}
        for extra in sorted(str(k) for k in body.keys() - FIELDS)
    ]
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        problems.append({"field": "kind", "message": f"one of {', '.join(KINDS)}"})
    to = body.get("to", HEADTEACHER)
    if not isinstance(to, str) or to not in receive:
        problems.append(
            {"field": "to", "message": f"one of the school's recipients: {', '.join(receive)}"}
        )
    elif isinstance(kind, str) and kind in KINDS and kind not in receive[to]:
        takers = [r for r, kinds in receive.items() if kind in kinds]
        problems.append(
            {
                "field": "to",
                "message": f"{to} does not receive '{kind}'; send it to {' or '.join(takers)}",
            }
        )
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
            to=str(to),
            platform=None if platform in (None, OTHER_PLATFORM) else str(platform),
            what_happened=texts["what_happened"],
            name=texts["name"],
            contact=texts["contact"],
        ),
        [],
    )


def bundle_recipients(bundle: Mapping[str, Any]) -> tuple[Recipient, ...]:
    """The recipients a bundle offers (a bundle from before recipients: the Headteacher alone)."""
    listed = bundle.get("report_recipients")
    if not listed:
        return recipients(())
    return tuple(Recipient(r["id"], r["role"], r["label"], tuple(r["receives"])) for r in listed)
