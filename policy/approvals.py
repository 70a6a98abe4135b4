"""What a school-account approval can and cannot change, read from the rules (clause 10.3).

Clause 10.3: "The use of social media for school purposes is subject to the remainder of this
policy." The rules are tried in order, so a rule above the school-account rule binds an approved
account too. For each act this says which rule an approved account meets first:

- `never`: a rule that blocks the act whatever the platform, time or device (the reference rule,
  clause 6.2): no approval can allow it, so the approval form and accounts.yaml refuse it;
- `notice`: a warning that an approval does not silence (a message or a follow from the school's
  account still gets the clause 8.1 notice);
- `allowed`: the approval lets it pass (the school-account rule, clause 10.1).

Pure: the rules in, the limits out, so the form, the configuration check and the coverage map say
the same thing for each school's own rules.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from policy.config import RuleMatch
from policy.vocabulary import ACTIONS

Limit = Literal["never", "notice", "allowed"]


class RuleLike(Protocol):
    """A rule of rules.yaml (policy.config.Rule) or of the bundle (policy.bundle.BundleRule)."""

    @property
    def id(self) -> str: ...
    @property
    def match(self) -> RuleMatch: ...
    @property
    def outcome(self) -> str: ...
    @property
    def clauses(self) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class ActLimit:
    """What an approval of `action` gives: the limit and the rule that sets it (None: no rule
    matches a school account's act at all, so it passes unrecorded)."""

    action: str
    limit: Limit
    rule: str | None
    clauses: tuple[str, ...]


def unconditional(match: RuleMatch) -> bool:
    """Matches the act whatever the category, platform, time or device group."""
    return (
        match.categories is None
        and match.platforms is None
        and match.working_time is None
        and match.device_groups is None
    )


def act_limit(rules: Sequence[RuleLike], action: str) -> ActLimit:
    """The first rule an approved school account's `action` can meet, and what it makes of it.
    A block that only sometimes applies (one platform, working time) does not make the act
    `never`: the approval can still matter elsewhere, so the search goes on past it."""
    for rule in rules:
        match = rule.match
        if match.actions is not None and action not in match.actions:
            continue
        if match.accounts is not None and "school" not in match.accounts:
            continue
        clauses = tuple(rule.clauses)
        if rule.outcome == "block":
            if unconditional(match):
                return ActLimit(action, "never", rule.id, clauses)
            continue
        limit: Limit = "notice" if rule.outcome == "warn" else "allowed"
        return ActLimit(action, limit, rule.id, clauses)
    return ActLimit(action, "allowed", None, ())


def act_limits(rules: Sequence[RuleLike]) -> dict[str, ActLimit]:
    """`act_limit` for every action, in the vocabulary's order."""
    return {action: act_limit(rules, action) for action in ACTIONS}


def never_approvable(rules: Sequence[RuleLike]) -> dict[str, ActLimit]:
    """The acts no approval can allow (a rule blocks them whatever the account), by action."""
    return {a: limit for a, limit in act_limits(rules).items() if limit.limit == "never"}


def refusal(limit: ActLimit) -> str:
    """One line: why an approval cannot include this act, naming the clause and the rule."""
    clauses = ", ".join(limit.clauses)
    return (
        f"{limit.action!r} cannot be approved: rule {limit.rule} blocks it from every account, "
        f"a school account too (clause {clauses}; clause 10.3 makes school use subject to the "
        "rest of the policy)"
    )


def passed_over_blocks(rules: Sequence[RuleLike]) -> list[tuple[int, RuleLike, RuleLike]]:
    """(index, rule, later block): a rule that lets school accounts through placed before a rule
    that blocks some of the same acts from every account. In that order an approval would allow
    what a clause says never (clause 10.3); the school-account rule belongs below it."""
    found = []
    for i, rule in enumerate(rules):
        accounts = rule.match.accounts
        if rule.outcome not in ("allow", "log") or accounts is None or "school" not in accounts:
            continue
        for later in rules[i + 1 :]:
            m = later.match
            if later.outcome != "block" or not unconditional(m):
                continue
            if m.accounts is not None and "school" not in m.accounts:
                continue
            acts = rule.match.actions
            if acts is None or m.actions is None or set(acts) & set(m.actions):
                found.append((i, rule, later))
    return found
