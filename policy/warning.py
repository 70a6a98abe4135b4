"""The warning page's content and its Continue / Go back rules, once for every sensor.

The proxy renders the content with its template; the extension's page fills the same fields
(the JavaScript twin passes the same cases, tests/vectors/warning.json). Pure: the bundle and a
Decision in, plain JSON types out. What only one sensor has (the proxy's signed ticket, whether
it injects headers; the extension's privacy level) is added by that sensor, not here.
"""

from collections.abc import Mapping
from typing import Any, Literal, get_args

from policy.facts import Decision
from policy.reasons import kind_of, reasons_for
from policy.vocabulary import EndpointAction

WARNING_OUTCOMES = ("warn", "block")
"""The outcomes that get the warning page on a top-level navigation."""

ACTS: tuple[str, ...] = get_args(EndpointAction)
"""The acts: what a member of staff sends (a post, a message, a reference, a friend request)."""

ACT_NOUNS = {
    "post": "post or comment",
    "message": "message",
    "reference": "recommendation or endorsement",
    "connect": "friend request or invitation",
}
"""What the warning calls each act: "Your message on LinkedIn was not sent"."""

NOT_RECORDED = (
    "Not recorded: the address of the page, anything you wrote or read, your device's address, "
    "or your account. That is the school's promise in its privacy notice and its data "
    "protection impact assessment (DPIA), not clause 9 of the policy: clause 9 keeps the "
    "school's right to monitor more."
)
"""What an event never holds, and whose promise that is (clause 9 disclaims privacy, so it
cannot be cited for it)."""

Seen = Literal[
    "nothing", "warning_page", "blocked_page", "next_page_warning", "next_page_blocked", "refused"
]
SEEN: tuple[str, ...] = get_args(Seen)


def act_held(decision: Decision) -> bool:
    """A warned or blocked act is held: it is not sent, and the member of staff sees the clause
    (Continue, where the rule offers it, opens that kind of act on that platform; then the act
    goes through).
    """
    return decision.outcome in WARNING_OUTCOMES and decision.action in ACTS


def what_staff_see(decision: Decision, navigation: bool) -> Seen:
    """What the member of staff sees of `decision` through the proxy, with no allowance: the
    warning or blocked page at once on a top-level navigation (a page, or a form posted by the
    page itself, as mbasic.facebook.com does); for an act sent by the page's own script, a 4xx
    to the script and the warning on their next page of that platform; a blocked request that is
    not an act gets a plain 403 and nothing is shown; anything else passes."""
    blocked = decision.outcome == "block"
    if decision.outcome not in WARNING_OUTCOMES:
        return "nothing"
    if navigation:
        return "blocked_page" if blocked else "warning_page"
    if act_held(decision):
        return "next_page_blocked" if blocked else "next_page_warning"
    return "refused" if blocked else "nothing"


def continue_offered(decision: Decision) -> bool:
    """Continue is offered (and an allowance honoured) only on a warning whose rule allows it."""
    return decision.outcome == "warn" and decision.allow_continue


def continue_accepted(bundle: Mapping[str, Any], decision: Decision, reason: str) -> bool:
    """Continue goes through only where it is offered and with one of the reasons that continue
    this kind of request (a page view, or this act)."""
    return continue_offered(decision) and any(r["id"] == reason for r in reasons(bundle, decision))


def reasons(bundle: Mapping[str, Any], decision: Decision) -> list[dict[str, str]]:
    """The reasons that continue `decision`'s kind of request ({id, label}), where Continue is
    offered at all."""
    if not continue_offered(decision):
        return []
    return reasons_for(_continue_reasons(bundle), kind_of(decision.action, ACTS), "continue")


def tell_reasons(bundle: Mapping[str, Any], decision: Decision) -> list[dict[str, str]]:
    """The reasons that, for `decision`'s kind of request, leave it unsent and open Tell the
    Headteacher instead ({id, label, tell}: `tell` is what the report is about)."""
    if not continue_offered(decision):
        return []
    return reasons_for(_continue_reasons(bundle), kind_of(decision.action, ACTS), "tell")


def tell_instead(bundle: Mapping[str, Any], decision: Decision, reason: str) -> str | None:
    """What the report is about (policy.staff_report.KINDS) when `reason` is one that tells the
    Headteacher instead of sending `decision`'s request; None for any other reason."""
    return next((r["tell"] for r in tell_reasons(bundle, decision) if r["id"] == reason), None)


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
    held: bool = False,
) -> dict[str, Any]:
    """What the warning page says for `decision`: clauses most specific first, the choices.

    `return_to` is the path asked for (where Continue leads; made safe here); `account_seen`
    says whether the sensor saw the member of staff signed in to the platform; `held` that the
    sensor held the act (`act_held`): the page then says the act was not sent, and what next.
    """
    settings = bundle["settings"]
    continuing = reasons(bundle, decision)
    offered = bool(continuing)
    name = _platform_name(bundle, decision.platform)
    blocked = decision.outcome == "block"
    minutes = int(settings["allowance_minutes"])
    act = ACT_NOUNS.get(decision.action)
    held = held and act_held(decision)
    if held:
        heading = f"Your {act} on {name} was not sent"
        if offered:
            next_step = (
                f"If it is school business, choose the reason below and continue, then send it "
                f"again: for {minutes} minutes each {act} you send on {name} from this device "
                "goes through (anything else you send is warned on its own)."
            )
        elif blocked:
            next_step = f"The school's policy does not permit this on {name}; it cannot be sent."
        else:
            next_step = "It cannot be sent from here."
    else:
        heading = f"{name} is not available here" if blocked else f"Before you continue to {name}"
        next_step = ""
    return {
        "school": bundle["school"]["name"],
        "platform": decision.platform,
        "platform_name": name,
        "outcome": decision.outcome,
        "blocked": blocked,
        "held": held,
        "act": act,
        "heading": heading,
        "next_step": next_step,
        "reason": decision.reason.replace(f" (rule {decision.rule})", ""),  # no id for staff
        "clauses": _clause_texts(bundle, decision),
        "allow_continue": offered,
        "reasons": continuing,
        "tell_reasons": tell_reasons(bundle, decision),
        "allowance_minutes": minutes,
        "granularity": int(settings["event_time_granularity_minutes"]),
        "not_recorded": NOT_RECORDED,
        "account_seen": account_seen,
        "return_to": safe_return_path(return_to),
    }


def _continue_reasons(bundle: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(bundle["settings"]["continue_reasons"])


def _platform_name(bundle: Mapping[str, Any], platform: str | None) -> str:
    for p in bundle["platforms"]:
        if p["id"] == platform:
            return str(p["name"])
    return str(platform or "")


def _clause_texts(bundle: Mapping[str, Any], decision: Decision) -> list[dict[str, Any]]:
    """The clauses that may apply, each led by the condition it rests on ("If this person is a
    pupil, a parent or a carer, clause 8.1 says:"), then those that apply (`lead` null); each in
    the rule's order, most specific first. An unknown id is left out."""
    by_id = {c["id"]: c for c in bundle["clauses"]}
    condition = may_apply_condition(bundle, decision.rule)
    leads: list[tuple[str, str | None]] = [
        (i, f"If {condition}, clause {i} says:" if condition else f"Clause {i} may apply; it says:")
        for i in decision.may_apply
    ]
    leads += [(i, None) for i in decision.clauses]
    return [
        {
            "id": i,
            "heading": by_id[i].get("heading"),
            "text": by_id[i].get("text"),
            "continuation": by_id[i].get("continuation"),
            "may_apply": lead is not None,
            "lead": lead,
        }
        for i, lead in leads
        if i in by_id
    ]


def may_apply_condition(bundle: Mapping[str, Any], rule: str) -> str | None:
    """The rule's condition for its clauses that only may apply (rules.yaml `may_apply_if`)."""
    for r in bundle.get("rules", ()):
        if r["id"] == rule:
            condition = r.get("may_apply_if")
            return None if condition is None else str(condition)
    return None
