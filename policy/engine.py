"""The bundle, loaded into indexes that make each decision a handful of dictionary lookups."""

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from policy.canonical import WRITE_METHODS
from policy.hosts import HostClassifier
from policy.privacy import privacy_level
from policy.schedule import WorkingTime, days_between, parse_hhmm
from policy.vocabulary import PrivacyLevel

ANY = None
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ClauseText:
    id: str
    heading: str | None
    text: str | None
    continuation: str | None


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    action: str
    methods: frozenset[str]
    path: re.Pattern[str]
    query: re.Pattern[str] | None
    body: re.Pattern[str] | None
    hosts: frozenset[str]
    path_any_case: re.Pattern[str]
    """`path` without regard to case, for the canonical path (ASCII: policy.canonical.path)."""


@dataclass(frozen=True, slots=True)
class AreaSpec:
    """A part of a platform (config.Area): its host names (each with its subdomains) and path."""

    name: str
    domains: tuple[str, ...]
    path: re.Pattern[str] | None
    query: re.Pattern[str] | None
    use: str
    category: str | None
    opening: str | None

    def matches(self, host: str, path: str, query: str) -> bool:
        """`host` is normalised (policy.hosts.untranslated)."""
        if self.domains and not any(host == d or host.endswith(f".{d}") for d in self.domains):
            return False
        if self.path is not None and self.path.search(path) is None:
            return False
        return self.query is None or self.query.search(query) is not None


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    id: str
    name: str
    category: str
    account_cookies: tuple[tuple[str, re.Pattern[str], str], ...]
    """(cookie name, pattern whose group 1 is the id, kind of id: account, profile or page)."""
    endpoints: tuple[EndpointSpec, ...]
    body_methods: frozenset[str]
    """Methods for which some endpoint looks at the body: only those bodies are ever read."""
    areas: tuple[AreaSpec, ...] = ()
    """The platform's parts, tried in order (config.Area)."""
    domains: frozenset[str] = frozenset()
    """Its catalogue domains (each with its subdomains): where its page hosts are."""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    id: str
    description: str
    categories: frozenset[str] | None
    platforms: frozenset[str] | None
    actions: frozenset[str] | None
    working_time: bool | None
    device_groups: frozenset[str] | None
    accounts: frozenset[str] | None
    outcome: str
    clauses: tuple[str, ...]
    """The clauses that apply (the rule's clauses but those that only may apply)."""
    record: bool
    allow_continue: bool
    may_apply: tuple[str, ...] = ()
    may_apply_if: str | None = None

    def matches(
        self, category: str, platform: str, action: str, working: bool, group: str, account: str
    ) -> bool:
        return (
            (self.actions is ANY or action in self.actions)
            and (self.categories is ANY or category in self.categories)
            and (self.platforms is ANY or platform in self.platforms)
            and (self.working_time is ANY or working == self.working_time)
            and (self.accounts is ANY or account in self.accounts)
            and (self.device_groups is ANY or group in self.device_groups)
        )


@dataclass(frozen=True, slots=True)
class AccountSpec:
    id: str
    platform: str
    account_id: str
    label: str
    approved_on: date
    expires_on: date | None
    actions: frozenset[str]
    kind: str | None = None
    """account, profile or page; None (an older entry): any kind but a Page."""

    def matches(self, kind: str, action: str, day: date) -> bool:
        """Whether an id of `kind`, doing `action` on `day`, is this approved account."""
        right_kind = kind != "page" if self.kind is None else kind == self.kind
        return right_kind and action in self.actions and self.active_on(day)

    def active_on(self, day: date) -> bool:
        return self.approved_on <= day and (self.expires_on is None or day <= self.expires_on)


def _optional_set(values: Any) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def _compile(pattern: str) -> re.Pattern[str]:
    """ASCII classes: \\d and \\w then mean what they mean in the extension's JavaScript."""
    return re.compile(pattern, re.ASCII)


def _regex(pattern: str | None) -> re.Pattern[str] | None:
    return None if pattern is None else _compile(pattern)


class Policy:
    """A loaded bundle. Build with `Policy.from_bundle(bundle_dict)`; immutable afterwards."""

    def __init__(self, bundle: Mapping[str, Any]) -> None:
        try:
            self._load(bundle)
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise ValueError(f"not a usable policy bundle: {type(exc).__name__}: {exc}") from exc

    @classmethod
    def from_bundle(cls, bundle: Mapping[str, Any]) -> "Policy":
        return cls(bundle)

    def _claims(self) -> dict[str, tuple[tuple[PlatformSpec, tuple[EndpointSpec, ...]], ...]]:
        """Host -> the other platforms whose endpoints name that host: an app of one platform
        that sends its acts to another's host (Threads on i.instagram.com) is told apart by the
        endpoint, which claims the request for its own platform (tried before the host's own)."""
        claims: dict[str, list[tuple[PlatformSpec, tuple[EndpointSpec, ...]]]] = {}
        for spec in self.platforms.values():
            for host in sorted({h for e in spec.endpoints for h in e.hosts}):
                owner = self.classifier.platform_for(host)
                if owner is None or owner == spec.id:
                    continue
                endpoints = tuple(e for e in spec.endpoints if host in e.hosts)
                claims.setdefault(host, []).append((spec, endpoints))
        return {host: tuple(found) for host, found in claims.items()}

    def _load(self, bundle: Mapping[str, Any]) -> None:
        self.bundle = bundle
        self.version: str = bundle["version"]
        self.policy_version: str = bundle["policy_version"]
        self.school_name: str = bundle["school"]["name"]
        self.clauses = {
            c["id"]: ClauseText(c["id"], c.get("heading"), c.get("text"), c.get("continuation"))
            for c in bundle["clauses"]
        }
        domains, hosts, tlds = [], [], []
        self.platforms: dict[str, PlatformSpec] = {}
        for p in bundle["platforms"]:
            domains += [(d, p["id"]) for d in p["domains"]]
            hosts += [(h, p["id"]) for h in p.get("hosts", ())]
            tlds += [(t, p["id"]) for t in p.get("tlds", ())]
            endpoints = tuple(
                EndpointSpec(
                    action=e["action"],
                    methods=frozenset(e["methods"]),
                    path=_compile(e["path"]),
                    query=_regex(e.get("query")),
                    body=_regex(e.get("body")),
                    hosts=frozenset(e.get("hosts") or ()),
                    path_any_case=re.compile(e["path"], re.ASCII | re.IGNORECASE),
                )
                for e in p.get("endpoints", ())
            )
            self.platforms[p["id"]] = PlatformSpec(
                id=p["id"],
                name=p["name"],
                category=p["category"],
                account_cookies=tuple(
                    (c["name"], _compile(c["pattern"]), c.get("kind") or "account")
                    for c in p.get("account_cookies", ())
                ),
                endpoints=endpoints,
                body_methods=frozenset(
                    m
                    for e in endpoints
                    if e.body
                    for m in (*e.methods, *(WRITE_METHODS if "POST" in e.methods else ()))
                ),
                areas=tuple(
                    AreaSpec(
                        name=a["name"],
                        domains=tuple(a.get("domains") or ()),
                        path=_regex(a.get("path")),
                        query=_regex(a.get("query")),
                        use=a.get("use") or "app",
                        category=a.get("category"),
                        opening=a.get("opening"),
                    )
                    for a in p.get("areas", ())
                ),
                domains=frozenset(p["domains"]),
            )
        self.classifier = HostClassifier(domains, hosts, tlds)
        self.claims = self._claims()

        schedule = bundle["schedule"]
        closed: list[date] = [date.fromisoformat(d["date"]) for d in schedule["bank_holidays"]]
        for closure in schedule["closures"]:
            closed += days_between(
                date.fromisoformat(closure["start"]), date.fromisoformat(closure["end"])
            )
        self.working_time = WorkingTime(
            schedule["time_zone"],
            {
                day: [(parse_hhmm(a), parse_hhmm(b)) for a, b in ranges]
                for day, ranges in schedule["working_hours"].items()
            },
            [
                (date.fromisoformat(t["start"]), date.fromisoformat(t["end"]))
                for t in schedule["terms"]
            ],
            closed,
            [date.fromisoformat(d["date"]) for d in schedule["inset_days"]],
        )

        self.device_groups: tuple[tuple[str, tuple[IPNetwork, ...]], ...] = tuple(
            (g["id"], tuple(ipaddress.ip_network(n) for n in g["networks"]))
            for g in bundle["device_groups"]
        )
        self.device_accounts: dict[tuple[str, str], AccountSpec] = {}
        """(device group, platform) -> the school accounts device group's approval."""
        for g in bundle["device_groups"]:
            held = g.get("school_accounts")
            if not held:
                continue
            for platform_id in held["platforms"]:
                self.device_accounts[(g["id"], platform_id)] = AccountSpec(
                    id=g["id"],
                    platform=platform_id,
                    account_id="",
                    label=g["label"],
                    approved_on=date.fromisoformat(held["approved_on"]),
                    expires_on=(
                        date.fromisoformat(held["expires_on"]) if held.get("expires_on") else None
                    ),
                    actions=frozenset(held["actions"]),
                )
        self.staff_group: str = bundle["staff_group"]
        self.tunnelled_groups: frozenset[str] = frozenset(
            g["id"] for g in bundle["device_groups"] if not g.get("decrypt_https", True)
        )
        """Groups whose secure connections are tunnelled, never decrypted (config.DeviceGroup:
        staff's own devices, visitors): the proxy knows only the name each connection asks for."""
        self.group_for_client = lru_cache(maxsize=4096)(self._group_for_client)

        self.rules = tuple(
            RuleSpec(
                id=r["id"],
                description=r["description"],
                categories=_optional_set(r["match"].get("categories")),
                platforms=_optional_set(r["match"].get("platforms")),
                actions=_optional_set(r["match"].get("actions")),
                working_time=r["match"].get("working_time"),
                device_groups=_optional_set(r["match"].get("device_groups")),
                accounts=_optional_set(r["match"].get("accounts")),
                outcome=r["outcome"],
                clauses=tuple(c for c in r["clauses"] if c not in r.get("may_apply", ())),
                record=bool(r["record"]),
                allow_continue=bool(r["allow_continue"]),
                may_apply=tuple(r.get("may_apply", ())),
                may_apply_if=r.get("may_apply_if"),
            )
            for r in bundle["rules"]
        )

        self.accounts: dict[tuple[str, str], tuple[AccountSpec, ...]] = {}
        for a in bundle["accounts"]:
            spec = AccountSpec(
                id=a["id"],
                platform=a["platform"],
                account_id=str(a["account_id"]),
                label=a["label"],
                approved_on=date.fromisoformat(a["approved_on"]),
                expires_on=date.fromisoformat(a["expires_on"]) if a.get("expires_on") else None,
                actions=frozenset(a["actions"]),
                kind=a.get("kind"),
            )
            key = (spec.platform, spec.account_id)
            self.accounts[key] = (*self.accounts.get(key, ()), spec)
        self.settings: Mapping[str, Any] = bundle["settings"]
        self.privacy_level: PrivacyLevel = privacy_level(bundle)
        self.body_peek_bytes: int = int(self.settings["body_peek_bytes"])

    def _group_for_client(self, client: str) -> str | None:
        try:
            address = ipaddress.ip_address(client.split("%", 1)[0])
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        group_id: str
        for group_id, networks in self.device_groups:
            if any(address in net for net in networks):
                return group_id
        return None

    def account_id(self, platform: PlatformSpec, cookies: Mapping[str, str]) -> str | None:
        """The logged-in account id read from the platform's cookies, if any."""
        identity = self.account_identity(platform, cookies)
        return None if identity is None else identity[1]

    def account_identity(
        self, platform: PlatformSpec, cookies: Mapping[str, str]
    ) -> tuple[str, str] | None:
        """(kind, id) of the account in use, from the first of the platform's cookies that
        carries one: a Page's cookie comes first, so while someone acts as a Page it is the Page
        (Facebook's i_user), otherwise the person's own profile (c_user)."""
        for name, pattern, kind in platform.account_cookies:
            value = cookies.get(name)
            if value:
                match = pattern.search(unquote(value))
                if match and match.group(1):
                    return kind, match.group(1)
        return None

    def clause_texts(self, ids: tuple[str, ...]) -> list[ClauseText]:
        return [self.clauses[i] for i in ids if i in self.clauses]
