"""Which reasons the warning offers for each kind of request, and what choosing one does.

A reason is given for a kind of request (settings.yaml `continue_reasons[].acts`): opening a
page (`browse`) or sending one kind of act. For each it either continues (the request goes
through, and an allowance covers that kind for a while) or tells: the act stays unsent and the
Tell the Headteacher form opens, with the platform and what the report is about chosen.

What a clause's own words rule out is checked here, so that no school's configuration can offer
a reason for an act the clause it rests on forbids (`reason_problems`, run with the other checks
between files in policy/school.py). Pure: the settings (or the bundle's) in, plain values out.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from policy.config import PolicyFile, SettingsFile
from policy.errors import Problem
from policy.yamlsource import LocatedYaml

PAGE_VIEW = "browse"
"""The kind a page view's reasons are given for (every request that is not an act)."""

DEFAULT_ACTS: Mapping[str, str] = {PAGE_VIEW: "continue"}
"""What a reason that names no kind is offered for (a bundle from before reasons named them)."""

NEVER_CONTINUED: Mapping[str, tuple[str, str]] = {
    "reference": ("6.2", "Staff should never provide references"),
}
"""Acts no reason can send, whatever it rests on: the clause and its words."""

TO_THE_HEADTEACHER: Mapping[str, str] = {
    "8.1": "If a student and / or parent / carer contacts you on social media, you must "
    "immediately notify the Headteacher. You must not enter into any correspondence",
    "8.4": "you must immediately report the matter to the Headteacher",
    "11.3.6": "refrain from making the communication until you discuss it with the Headteacher",
}
"""Clauses whose duty is to tell the Headteacher, not to send anything: a reason resting on one
may open pages (to read what is to be reported) but never send an act; its acts say `tell`."""


def kind_of(action: str, acts: Iterable[str]) -> str:
    """The kind of request reasons are given for: the act itself, or a page view."""
    return action if action in set(acts) else PAGE_VIEW


def reasons_for(
    reasons: Iterable[Mapping[str, Any]], kind: str, route: str
) -> list[dict[str, str]]:
    """The reasons offered for `kind` that `route` (continue or tell), in the settings' order."""
    out = []
    for reason in reasons:
        if (reason.get("acts") or DEFAULT_ACTS).get(kind) == route:
            chosen = {"id": str(reason["id"]), "label": str(reason["label"])}
            if route == "tell":
                chosen["tell"] = str(reason["tell"])
            out.append(chosen)
    return out


def reason_problems(
    policy: PolicyFile, settings: SettingsFile, located: LocatedYaml
) -> list[Problem]:
    """A reason offered for a kind of act its clause (or 6.2, for any reason) rules out, or
    resting on a clause the policy does not have: one problem each, at its line."""
    problems: list[Problem] = []
    clause_ids = {c.id for c in policy.clauses}
    for i, reason in enumerate(settings.settings.continue_reasons):
        where = ("settings", "continue_reasons", i)
        if reason.clause is not None and reason.clause not in clause_ids:
            problems.append(
                located.problem((*where, "clause"), f"clause {reason.clause} is not in policy.yaml")
            )
        for act, route in reason.acts.items():
            if route != "continue":
                continue
            never = NEVER_CONTINUED.get(act)
            if never is not None and never[0] in clause_ids:
                problems.append(
                    located.problem(
                        (*where, "acts", act),
                        f'no reason can send a {act}: clause {never[0]} says "{never[1]}"; '
                        f"leave {act} out",
                    )
                )
                continue
            duty = TO_THE_HEADTEACHER.get(reason.clause or "")
            if act != PAGE_VIEW and duty is not None and reason.clause in clause_ids:
                problems.append(
                    located.problem(
                        (*where, "acts", act),
                        f"a reason resting on clause {reason.clause} cannot send a {act}: the "
                        f'clause says "{duty}"; write `{act}: tell` (the act stays unsent and '
                        "Tell the Headteacher opens)",
                    )
                )
    return problems
