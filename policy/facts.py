"""The facts of one request (what a sensor saw) and the Decision about it."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from urllib.parse import urlsplit

from policy.vocabulary import AccountKind, Action, Outcome

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """One request as a sensor saw it. Header names are lower case. Nothing here leaves a sensor."""

    host: str
    path: str = "/"
    query: str = ""
    method: str = "GET"
    headers: Mapping[str, str] = field(default=_EMPTY)
    cookies: Mapping[str, str] = field(default=_EMPTY)
    body: bytes | None = None
    body_cut: bool = False
    """The sensor could not read all of the body: longer than its look, or in an encoding it
    could not undo. `body` then holds what it could read."""
    at: datetime
    client: str | None = None
    device_group: str | None = None

    @classmethod
    def from_url(cls, url: str, **kwargs: object) -> "Facts":
        parts = urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"not an absolute URL with a host: {url!r}")
        return cls(host=parts.hostname, path=parts.path or "/", query=parts.query, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What the policy says about one request, and why."""

    platform: str | None
    category: str | None
    action: Action
    working_time: bool
    device_group: str | None
    account: AccountKind
    outcome: Outcome
    clauses: tuple[str, ...]
    """The clauses that apply, most specific first."""
    reason: str
    rule: str
    record: bool = False
    allow_continue: bool = False
    school_account: str | None = None
    may_apply: tuple[str, ...] = ()
    """The clauses that may apply: the request does not show whether their condition is met
    (whether the person messaged is a pupil or a parent, clause 8.1). Most specific first."""

    def contract(self) -> dict[str, object]:
        """The Decision fields (docs/architecture.md) plus the rule that matched (JSON-ready)."""
        return {
            "platform": self.platform,
            "category": self.category,
            "action": self.action,
            "working_time": self.working_time,
            "device_group": self.device_group,
            "account": self.account,
            "outcome": self.outcome,
            "clauses": list(self.clauses),
            "may_apply": list(self.may_apply),
            "reason": self.reason,
            "rule": self.rule,
        }
