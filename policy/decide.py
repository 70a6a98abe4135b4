"""decide(): the facts of one request in, a Decision out. Pure: same facts, same answer."""

from collections.abc import Mapping

from policy import canonical
from policy.engine import AreaSpec, EndpointSpec, PlatformSpec, Policy
from policy.facts import Decision, Facts
from policy.hosts import untranslated
from policy.vocabulary import ACTION_LABELS, CATEGORY_LABELS, AccountKind, Action

NOT_SOCIAL = "not-social-media"
OUTSIDE_GROUPS = "outside-device-groups"
NO_RULE = "no-rule-matched"
PREFETCH = "prefetch"
QUIET_RULES = {"reading": "platform-reading", "link": "short-link", "work": "not-social-use"}
"""The built-in rule of opening each kind of quiet area (config.AreaUse): no warning, no record."""


def decide(facts: Facts, policy: Policy) -> Decision:
    working = policy.working_time(facts.at)
    group = facts.device_group
    if group is None:
        group = policy.group_for_client(facts.client) if facts.client else policy.staff_group
    platform_id = policy.classifier.platform_for(facts.host)
    if group is None:
        return _pass(
            facts,
            working,
            None,
            OUTSIDE_GROUPS,
            "The device is outside every configured device group, so the policy does not "
            "apply to it here.",
        )
    if platform_id is None:
        return _pass(facts, working, group, NOT_SOCIAL, "This site is not social media.")

    platform = policy.platforms[platform_id]
    host = untranslated(facts.host)
    endpoint = None
    for claimer, endpoints in policy.claims.get(host, ()):
        endpoint = _endpoint(endpoints, facts, host, policy.body_peek_bytes)
        if endpoint is not None:
            platform = claimer  # another platform's act on this host (engine.Policy._claims)
            break
    else:
        endpoint = _endpoint(platform.endpoints, facts, host, policy.body_peek_bytes)
    area = _area(platform, host, facts.path, facts.query)
    category = area.category if area is not None and area.category else platform.category
    action: Action
    if endpoint is not None:
        action = endpoint.action  # type: ignore[assignment]
    elif is_prefetch(facts.headers):
        return _quiet(
            platform,
            category,
            working,
            group,
            PREFETCH,
            f"{platform.name}: a prefetch or prerender the browser made on its own gets no "
            f"warning and no record; the page is decided when it is opened (rule {PREFETCH}).",
        )
    elif is_top_level_navigation(facts.method, facts.headers):
        if area is not None and area.use in QUIET_RULES:
            rule_id = QUIET_RULES[area.use]
            return _quiet(
                platform, category, working, group, rule_id, _quiet_reason(platform, area, rule_id)
            )
        action = area.opening if area is not None and area.opening else "browse"  # type: ignore[assignment]
    else:
        action = "subresource"

    account: AccountKind = "unknown"
    school_account = None
    identity = policy.account_identity(platform, facts.cookies) if facts.cookies else None
    if identity is not None:
        account = "personal"
        kind, account_id = identity
        day = policy.working_time.local(facts.at).date()
        for spec in policy.accounts.get((platform.id, account_id), ()):
            if spec.matches(kind, action, day):
                account, school_account = "school", spec.id
                break
    else:
        # A school accounts device group: where the platform's cookies carry no account id,
        # the device the school's account is used on stands for the account.
        held = policy.device_accounts.get((group, platform.id))
        if held is not None and held.matches(
            "account", action, policy.working_time.local(facts.at).date()
        ):
            account, school_account = "school", held.id

    for rule in policy.rules:
        if rule.matches(category, platform.id, action, working, group, account):
            return Decision(
                platform=platform.id,
                category=category,
                action=action,
                working_time=working,
                device_group=group,
                account=account,
                outcome=rule.outcome,  # type: ignore[arg-type]
                clauses=rule.clauses,
                reason=_reason(
                    platform,
                    category,
                    action,
                    working,
                    account,
                    rule.outcome,
                    rule.id,
                    rule.clauses,
                ),
                rule=rule.id,
                record=rule.record,
                allow_continue=rule.allow_continue,
                school_account=school_account,
                may_apply=rule.may_apply,
            )
    return Decision(
        platform=platform.id,
        category=category,
        action=action,
        working_time=working,
        device_group=group,
        account=account,
        outcome="allow",
        clauses=(),
        reason=_reason(platform, category, action, working, account, "allow", NO_RULE, ()),
        rule=NO_RULE,
        school_account=school_account,
    )


def is_top_level_navigation(method: str, headers: Mapping[str, str]) -> bool:
    """A page the person asked for, not something a page fetched or embedded.

    Sec-Fetch-* decide when present; browsers without them are judged by Accept.
    """
    mode = headers.get("sec-fetch-mode")
    dest = headers.get("sec-fetch-dest")
    if mode is not None or dest is not None:
        return mode == "navigate" and dest in (None, "document")
    return method in ("GET", "POST") and "text/html" in headers.get("accept", "")


def is_prefetch(headers: Mapping[str, str]) -> bool:
    """A prefetch or prerender the browser made on its own (`Sec-Purpose: prefetch`, with or
    without `;prerender`): nobody has opened the page yet."""
    purpose = headers.get("sec-purpose")
    return purpose is not None and purpose.split(";", 1)[0].strip().lower() == "prefetch"


def _area(platform: PlatformSpec, host: str, path: str, query: str) -> AreaSpec | None:
    for area in platform.areas:
        if area.matches(host, path, query):
            return area
    return None


def _endpoint(
    endpoints: tuple[EndpointSpec, ...], facts: Facts, host: str, peek: int
) -> EndpointSpec | None:
    """The act endpoint the request is, judged on its canonical form (policy.canonical) and on
    the raw one. An endpoint that names its act in the body, where the body could not be read
    whole (longer than the look, or an encoding the sensor could not undo), is the act it may be:
    acts fail closed."""
    if not endpoints:
        return None
    path = canonical.path(facts.path)
    query = canonical.query(facts.query)
    methods = canonical.methods(facts.method, facts.headers, facts.query)
    text: str | None = None
    if facts.body is not None and "POST" in methods:
        text = facts.body[:peek].decode("utf-8", "replace")
        methods |= canonical.form_methods(text)
    views: tuple[str, ...] | None = None
    cut = facts.body_cut or (facts.body is not None and len(facts.body) > peek)
    maybe: EndpointSpec | None = None
    for endpoint in endpoints:
        if not canonical.accepts(endpoint.methods, methods):
            continue
        if endpoint.hosts and host not in endpoint.hosts:
            continue
        if not (endpoint.path_any_case.search(path) or endpoint.path.search(facts.path)):
            continue
        if endpoint.query is not None and not (
            endpoint.query.search(query) or endpoint.query.search(facts.query)
        ):
            continue
        if endpoint.body is not None:
            if views is None:
                if text is None:
                    text = (facts.body or b"")[:peek].decode("utf-8", "replace")
                views = canonical.body_views(text, facts.headers.get("content-type", ""))
            if not any(endpoint.body.search(view) for view in views):
                if cut and maybe is None:
                    maybe = endpoint
                continue
        return endpoint
    return maybe


def _quiet(
    platform: PlatformSpec, category: str, working: bool, group: str, rule: str, reason: str
) -> Decision:
    """A request of a platform that passes without a warning and is not recorded."""
    return Decision(
        platform=platform.id,
        category=category,
        action="subresource" if rule == PREFETCH else "browse",
        working_time=working,
        device_group=group,
        account="unknown",
        outcome="allow",
        clauses=(),
        reason=reason,
        rule=rule,
    )


_QUIET_WORDS = {
    "platform-reading": "reading, so no warning and no record",
    "short-link": "a link that only leads elsewhere, so no warning and no record; the page it "
    "leads to is decided",
    "not-social-use": "not social use, so no warning and no record",
}


def _quiet_reason(platform: PlatformSpec, area: AreaSpec, rule: str) -> str:
    return f"{platform.name}, {area.name}: {_QUIET_WORDS[rule]} (rule {rule})."


def _pass(facts: Facts, working: bool, group: str | None, rule: str, reason: str) -> Decision:
    navigation = is_top_level_navigation(facts.method, facts.headers)
    return Decision(
        platform=None,
        category=None,
        action="browse" if navigation else "subresource",
        working_time=working,
        device_group=group,
        account="unknown",
        outcome="allow",
        clauses=(),
        reason=reason,
        rule=rule,
    )


_OUTCOME_WORDS = {
    "allow": "is allowed",
    "log": "is allowed and recorded anonymously",
    "warn": "gets a warning",
    "block": "is blocked",
}
_ACCOUNT_WORDS = {
    "school": "from an approved school account",
    "personal": "from a personal account",
    "unknown": "",
}


ANY_TIME = (
    ": clause 7 covers the school's computers and networks at any time, not only working time"
)
"""Added to the reason of a clause 7 warning or record outside working time."""


def _reason(
    platform: PlatformSpec,
    category: str,
    action: str,
    working: bool,
    account: str,
    outcome: str,
    rule: str,
    clauses: tuple[str, ...],
) -> str:
    when = "during working time" if working else "outside working time"
    what = ACTION_LABELS[action]
    who = _ACCOUNT_WORDS[account]
    kind = CATEGORY_LABELS.get(category, category)
    subject = f"{what[0].upper()}{what[1:]} {platform.name} ({kind})"
    parts = [subject, who, when] if who else [subject, when]
    tail = ANY_TIME if not working and outcome != "allow" and "7" in clauses else ""
    return f"{' '.join(parts)} {_OUTCOME_WORDS[outcome]}{tail} (rule {rule})."
