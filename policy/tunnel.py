"""What the proxy knows of a secure connection it tunnels without decrypting (a device group with
`decrypt_https: false`: staff's own devices, visitors): the name asked for (the CONNECT's, or the
TLS SNI), nothing more. A platform's page host is the action `seen` (no act known), decided by the
rules like any request (config/rules.yaml: clauses 3.2 and 4.2 with 7); a widget, API or CDN host
is not recorded. Pure, like policy.decide.
"""

from datetime import datetime

from policy.decide import NO_RULE, NOT_SOCIAL, OUTSIDE_GROUPS, QUIET_RULES, _reason
from policy.engine import PlatformSpec, Policy
from policy.facts import Decision
from policy.hosts import normalise_host, untranslated

PAGE_PREFIXES = ("", "www.", "m.", "mobile.", "web.", "mbasic.", "touch.")
"""A platform's page hosts: one of its catalogue domains itself, or that domain under one of these
labels (www.facebook.com, m.facebook.com, web.whatsapp.com). Its other names are APIs, widgets
(connect.facebook.net, platform.twitter.com) and CDNs, which other sites' pages fetch."""

NOT_A_PAGE_HOST = "not-a-page-host"


def is_page_host(platform: PlatformSpec, host: str) -> bool:
    """Whether `host` (normalised) is where people open `platform`'s pages: not a widget, API or
    CDN host, nor a part of it that is reading, a short link or a work tool (config.Area)."""
    label, _, rest = host.partition(".")
    if host not in platform.domains and not (
        f"{label}." in PAGE_PREFIXES and rest in platform.domains
    ):
        return False
    return not any(
        area.use in QUIET_RULES
        and area.path is None
        and area.query is None
        and area.matches(host, "/", "")
        for area in platform.areas
    )


def decide_tunnel(host: str, at: datetime, client: str | None, policy: Policy) -> Decision:
    """The Decision about a tunnelled connection to `host` from `client` at `at`."""
    working = policy.working_time(at)
    group = policy.group_for_client(client) if client else policy.staff_group
    name = untranslated(normalise_host(host))
    platform_id = policy.classifier.platform_for(name)
    if group is None or platform_id is None:
        passed = OUTSIDE_GROUPS if group is None else NOT_SOCIAL
        return _unrecorded(None, None, working, group, passed, "Not a platform of the catalogue.")
    platform = policy.platforms[platform_id]
    if not is_page_host(platform, name):
        return _unrecorded(
            platform.id,
            platform.category,
            working,
            group,
            NOT_A_PAGE_HOST,
            f"{platform.name}: {name} is not one of its page hosts (a widget, API or CDN that "
            f"other sites' pages fetch), so no record (rule {NOT_A_PAGE_HOST}).",
        )
    for rule in policy.rules:
        if rule.matches(platform.category, platform.id, "seen", working, group, "unknown"):
            return Decision(
                platform=platform.id,
                category=platform.category,
                action="seen",
                working_time=working,
                device_group=group,
                account="unknown",
                outcome=rule.outcome,  # type: ignore[arg-type]
                clauses=rule.clauses,
                reason=_reason(
                    platform,
                    platform.category,
                    "seen",
                    working,
                    "unknown",
                    rule.outcome,
                    rule.id,
                    rule.clauses,
                ),
                rule=rule.id,
                record=rule.record,
            )
    return _unrecorded(
        platform.id,
        platform.category,
        working,
        group,
        NO_RULE,
        _reason(platform, platform.category, "seen", working, "unknown", "allow", NO_RULE, ()),
    )


def _unrecorded(
    platform: str | None,
    category: str | None,
    working: bool,
    group: str | None,
    rule: str,
    reason: str,
) -> Decision:
    return Decision(
        platform=platform,
        category=category,
        action="seen",
        working_time=working,
        device_group=group,
        account="unknown",
        outcome="allow",
        clauses=(),
        reason=reason,
        rule=rule,
    )
