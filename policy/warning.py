"""The warning page's content and its Continue / Go back rules, once for every sensor.

The proxy renders the content with its template; the extension's page fills the same fields
(the JavaScript twin passes the same cases, tests/vectors/warning.json). Pure: the bundle and a
Decision in, plain JSON types out. What only one sensor has (the proxy's signed ticket, whether
it injects headers; the extension's privacy level) is added by that sensor, not here.
"""

from collections.abc import Mapping
from typing import Any

from policy.facts import Decision

WARNING_OUTCOMES = ("warn", "block")
"""The outcomes that get the warning page on a top-level navigation."""


def continue_offered(decision: Decision) -> bool:
    """Continue is offered (and an allowance honoured) only on a warning whose rule allows it."""
    return decision.outcome == "warn" and decision.allow_continue


def continue_accepted(bundle: Mapping[str, Any], decision: Decision, reason: str) -> bool:
    """Continue goes through only where it is offered and with one of the reasons offered."""
    return continue_offered(decision) and reason in _reason_ids(bundle)


def going_back_recorded(decision: Decision) -> bool:
    """ "Go back" is recorded (as `went_back`) for a warning or block that is recorded at all."""
    return decision.record and decision.outcome in WARNING_OUTCOMES


def safe_return_path(value: str) -> str:
    """Only a path on the same host: never `//elsewhere` or a full URL (no open redirect)."""
    if not value.startswith("/") or value.startswith("//") or value.startswith("/\\"):
        return "/"
    if any(c in value for c in "\r\n\t"):
        return "/"
    return value


def warning_content(
    bundle: Mapping[str, Any],
    decision: Decision,
    *,
    return_to: str = "/",
    account_seen: bool = False,
) -> dict[str, Any]:
    """What the warning page says for `decision`: clauses most specific first, the choices.

    `return_to` is the path asked for (where Continue leads; made safe here); `account_seen`
    says whether the sensor saw the member of staff signed in to the platform.
    """
    settings = bundle["settings"]
    offered = continue_offered(decision)
    return {
        "school": bundle["school"]["name"],
        "platform": decision.platform,
        "platform_name": _platform_name(bundle, decision.platform),
        "outcome": decision.outcome,
        "blocked": decision.outcome == "block",
        "reason": decision.reason,
        "clauses": _clause_texts(bundle, decision.clauses),
        "allow_continue": offered,
        "reasons": [{"id": r["id"], "label": r["label"]} for r in settings["continue_reasons"]]
        if offered
        else [],
        "allowance_minutes": int(settings["allowance_minutes"]),
        "granularity": int(settings["event_time_granularity_minutes"]),
        "account_seen": account_seen,
        "return_to": safe_return_path(return_to),
    }


def _reason_ids(bundle: Mapping[str, Any]) -> set[str]:
    return {r["id"] for r in bundle["settings"]["continue_reasons"]}


def _platform_name(bundle: Mapping[str, Any], platform: str | None) -> str:
    for p in bundle["platforms"]:
        if p["id"] == platform:
            return str(p["name"])
    return str(platform or "")


def _clause_texts(bundle: Mapping[str, Any], ids: tuple[str, ...]) -> list[dict[str, Any]]:
    """The clauses in the decision's order (most specific first); an unknown id is left out."""
    by_id = {c["id"]: c for c in bundle["clauses"]}
    return [
        {
            "id": i,
            "heading": by_id[i].get("heading"),
            "text": by_id[i].get("text"),
            "continuation": by_id[i].get("continuation"),
        }
        for i in ids
        if i in by_id
    ]
