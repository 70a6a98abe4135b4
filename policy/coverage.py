"""The clause coverage map: every clause of the school's policy, with what ClauseWarden does for it.

For each clause: the rules that cite it (what they match and their outcome in force, Continue or
not), the pages and forms that serve it, whether the dashboard's "By clause" report counts it; or,
for conduct the software does not judge, the school's own line why (`not_judged` in rules.yaml). A
clause with neither is a gap: `gaps()` names it, `clausewarden clauses` and `config validate` fail
on it, the page shows it. Generated from the bundle in force (the school's clauses, its rules as
the settings resolve them, its Continue reasons) and rules.yaml's `not_judged`, so it is true for
each school's own policy text. Pure: no I/O.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policy.config import NotJudged
from policy.staff_report import KINDS as REPORT_KINDS
from policy.vocabulary import CATEGORY_LABELS

ACT_WORDS = {
    "browse": "opening",
    "post": "posting or commenting",
    "message": "sending a message",
    "reference": "a recommendation or endorsement",
    "connect": "a friend request, follow or invitation",
    "subresource": "content embedded in another site",
}
ACCOUNT_WORDS = {
    "school": "an approved school account",
    "personal": "a personal account",
    "unknown": "an unrecognised account",
}
ACTS = frozenset({"post", "message", "reference", "connect"})
OUTCOME_WORDS = {
    # (outcome, what the rule matches: acts only, opening pages only, or either)
    ("allow", "any"): "allowed",
    ("log", "any"): "allowed and recorded, no warning",
    ("warn", "acts"): "held (not sent) with the warning, until the member of staff answers",
    ("warn", "pages"): "the warning page before it opens",
    ("warn", "any"): "the warning page; an act is held (not sent)",
    ("block", "acts"): "held, and it cannot be sent",
    ("block", "pages"): "the blocked page",
    ("block", "any"): "blocked; an act is held and cannot be sent",
}
HEADING_ONLY = "A heading: the clauses under it say what applies."


@dataclass(frozen=True, slots=True)
class Route:
    """A page, form or report of the product that serves a clause."""

    name: str
    where: str


@dataclass(frozen=True, slots=True)
class RuleUse:
    rule: str
    matches: str
    outcome: str
    does: str
    recorded: bool
    description: str


@dataclass(frozen=True, slots=True)
class ClauseEntry:
    id: str
    heading: str | None
    text: str
    heading_only: bool
    rules: tuple[RuleUse, ...]
    routes: tuple[Route, ...]
    reported: bool
    not_judged: str | None

    @property
    def covered(self) -> bool:
        """Has an entry: a rule, a page, a heading, or the school's line why not."""
        return bool(self.heading_only or self.rules or self.routes or self.not_judged)


_CITED = re.compile(r"\(clauses? ([0-9.]+(?:, [0-9.]+)*)\)")


def _cited(label: str) -> tuple[str, ...]:
    """The clause ids a label names in brackets: "Managing a school account (clause 10.1)"."""
    match = _CITED.search(label)
    return tuple(c.strip().rstrip(".") for c in match.group(1).split(",")) if match else ()


def _routes(bundle: Mapping[str, Any]) -> list[tuple[tuple[str, ...], Route]]:
    """The product's pages, forms and reports, with the clauses each serves."""
    settings = bundle["settings"]
    platforms = len(bundle["platforms"])
    routes: list[tuple[tuple[str, ...], Route]] = [
        (
            ("3.1",),
            Route(
                "Every device in the school's device groups is treated alike, whoever uses it; "
                "no one's name is recorded",
                "device_groups.yaml",
            ),
        ),
        (
            ("4.1",),
            Route(
                f"The platform catalogue: {platforms} social media platforms, wikis and blogs "
                "recognised by their addresses",
                "/privacy lists them",
            ),
        ),
        (
            ("4.3",),
            Route(
                "Investigations: opened by the Headteacher and countersigned by a governor, one "
                "named device tested at a time (privacy level 'stable' only)",
                "/investigations (admin pages)",
            ),
        ),
        (
            ("5.1", "9.2"),
            Route(
                "The dashboard, the event log and its export: anonymised figures for the "
                "Headteacher and managers, none resting on fewer than k devices",
                "/ and /events (admin pages)",
            ),
        ),
        (
            ("9.1", "9.2"),
            Route(
                "What is monitored and what an event holds, said to staff; each device can see "
                "what it recorded today",
                "/privacy; the warning page; the self-view (What this device has recorded today)",
            ),
        ),
        (
            ("9.3",),
            Route(
                f"Events are deleted after {settings['retention_days']} days",
                "settings (retention_days)",
            ),
        ),
        (
            ("10.1",),
            Route(
                "School accounts: only the Headteacher's approval makes one, with its allowed "
                "acts and expiry; staff ask from the warning page",
                "/accounts (admin pages); 'Register this as a school account' on the warning page",
            ),
        ),
        (
            ("10.3",),
            Route(
                "The approval says what it cannot change: acts a rule blocks from every account "
                "are refused, and a school account's messages keep their notice",
                "/accounts (admin pages); accounts.yaml is checked the same way",
            ),
        ),
        (
            ("12.1",),
            Route(
                "This map, generated from the school's own policy and rules, for the review",
                "/clauses",
            ),
        ),
    ]
    for label in REPORT_KINDS.values():
        if _cited(label):
            routes.append(
                (
                    _cited(label),
                    Route(
                        f"Tell the Headteacher: \u201c{label}\u201d",
                        "the form linked from the warning page and the self-view",
                    ),
                )
            )
    for reason in settings["continue_reasons"]:
        if _cited(reason["label"]):
            routes.append(
                (
                    _cited(reason["label"]),
                    Route(
                        f"A reason staff may give to continue: \u201c{reason['label']}\u201d",
                        "the warning page",
                    ),
                )
            )
    return routes


def _matches(match: Mapping[str, Any]) -> str:
    """What a rule matches, in words: "sending a message, in working time"."""
    parts = []
    actions = match.get("actions")
    parts.append(" or ".join(ACT_WORDS.get(a, a) for a in actions) if actions else "any request")
    if match.get("categories"):
        kinds = [CATEGORY_LABELS.get(c, c) for c in match["categories"]]
        parts.append("on " + ", ".join(kinds))
    if match.get("platforms"):
        parts.append("on " + ", ".join(match["platforms"]))
    if match.get("accounts"):
        parts.append("from " + " or ".join(ACCOUNT_WORDS.get(a, a) for a in match["accounts"]))
    if match.get("device_groups"):
        parts.append("from devices in " + ", ".join(match["device_groups"]))
    if match.get("working_time") is not None:
        parts.append("in working time" if match["working_time"] else "outside working time")
    return ", ".join(parts)


def _does(rule: Mapping[str, Any]) -> str:
    """What the rule's outcome does to what it matches, in words."""
    outcome = str(rule["outcome"])
    actions = set(rule["match"].get("actions") or ())
    kind = "acts" if actions and actions <= ACTS else "pages" if actions == {"browse"} else "any"
    words = OUTCOME_WORDS.get((outcome, kind)) or OUTCOME_WORDS.get((outcome, "any"), outcome)
    if outcome == "allow" and rule["record"]:
        words += " and recorded"
    if outcome == "warn":
        words += "; Continue offered" if rule["allow_continue"] else "; no Continue"
    return words


def _summary(clause: Mapping[str, Any]) -> str:
    """The clause's words, with the continuation after its list (11.3.1)."""
    return " ".join(str(p) for p in (clause.get("text"), clause.get("continuation")) if p)


def clause_map(bundle: Mapping[str, Any], not_judged: Sequence[NotJudged]) -> list[ClauseEntry]:
    """Every clause of the bundle's policy, in the document's order, with its entry."""
    uses: dict[str, list[RuleUse]] = {}
    for rule in bundle["rules"]:
        use = RuleUse(
            rule=rule["id"],
            matches=_matches(rule["match"]),
            outcome=rule["outcome"],
            does=_does(rule),
            recorded=bool(rule["record"]),
            description=" ".join(rule["description"].split()),
        )
        for clause in rule["clauses"]:
            uses.setdefault(clause, []).append(use)
    routes: dict[str, list[Route]] = {}
    for clauses, route in _routes(bundle):
        for clause in clauses:
            routes.setdefault(clause, []).append(route)
    why = {c: group.why for group in not_judged for c in group.clauses}
    entries = []
    for clause in bundle["clauses"]:
        cid = clause["id"]
        rule_uses = tuple(uses.get(cid, ()))
        entries.append(
            ClauseEntry(
                id=cid,
                heading=clause.get("heading"),
                text=_summary(clause),
                heading_only=not clause.get("text"),
                rules=rule_uses,
                routes=tuple(routes.get(cid, ())),
                reported=any(u.recorded for u in rule_uses),
                not_judged=why.get(cid),
            )
        )
    return entries


def gaps(entries: Sequence[ClauseEntry]) -> list[str]:
    """The clause ids with no entry at all."""
    return [e.id for e in entries if not e.covered]


GAP_FIX = (
    "name a rule that cites it, or add it under not_judged in rules.yaml with one line why the "
    "software does not judge it"
)


def as_text(entries: Sequence[ClauseEntry]) -> list[str]:
    """The map as plain lines (`clausewarden clauses`)."""
    lines = []
    for e in entries:
        title = f"{e.id} {e.heading}" if e.heading else e.id
        lines.append(title)
        if e.heading_only and not (e.rules or e.routes or e.not_judged):
            lines.append(f"    {HEADING_ONLY}")
        for use in e.rules:
            lines.append(f"    rule {use.rule}: {use.matches}: {use.does}")
        for route in e.routes:
            lines.append(f"    {route.name} ({route.where})")
        if e.reported:
            lines.append("    counted in the dashboard's By clause report")
        if e.not_judged:
            lines.append(f"    conduct the software does not judge: {e.not_judged}")
        if not e.covered:
            lines.append(f"    NO ENTRY: {GAP_FIX}")
    return lines
