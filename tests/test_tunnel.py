"""A secure connection tunnelled without decrypting (staff's own devices, visitors): the name it
asked for is all the proxy knows. Page hosts are `seen` under the clause of the device's group
(3.2 visitors, 4.2 own devices, with 7), widgets, APIs and CDNs are not, and a device is recorded
at most once per platform and 15 minutes (policy.tunnel, policy.respond.respond_tunnel)."""

from datetime import UTC, datetime
from typing import Any

import pytest

from policy import Policy
from policy.bundle import compile_bundle
from policy.configdir import load_config_dir
from policy.respond import SEEN_SECONDS, decide_tunnelled, respond_tunnel

AT = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)  # a Wednesday, in working time
VISITOR, OWN_DEVICE = "10.30.0.7", "10.20.0.7"


@pytest.fixture(scope="module")
def policy() -> Policy:
    bundle: dict[str, Any] = compile_bundle(load_config_dir())
    groups = {g["id"]: g for g in bundle["device_groups"]}
    groups["visitors"]["networks"] = ["10.30.0.0/16"]
    groups["staff-wifi"]["networks"] = ["10.20.0.0/16"]
    bundle["device_groups"] = sorted(groups.values(), key=lambda g: g["id"] == "staff-devices")
    return Policy.from_bundle(bundle)


@pytest.mark.parametrize(
    ("host", "client", "rule", "clauses"),
    [
        ("www.facebook.com", VISITOR, "visitor-seen", ("3.2", "7")),
        ("facebook.com", VISITOR, "visitor-seen", ("3.2", "7")),
        ("m.facebook.com", OWN_DEVICE, "own-device-seen", ("4.2", "7")),
        ("www.linkedin.com", OWN_DEVICE, "own-device-seen", ("4.2", "7")),
        ("web.whatsapp.com", VISITOR, "visitor-seen", ("3.2", "7")),
        ("x.com", OWN_DEVICE, "own-device-seen", ("4.2", "7")),
        ("WWW.Facebook.COM.", OWN_DEVICE, "own-device-seen", ("4.2", "7")),
    ],
)
def test_a_page_host_is_seen_under_the_clause_of_the_devices_group(
    policy: Policy, host: str, client: str, rule: str, clauses: tuple[str, ...]
) -> None:
    decision = decide_tunnelled(host, AT, client, policy)
    assert (decision.action, decision.outcome, decision.rule) == ("seen", "log", rule)
    assert decision.clauses == clauses and decision.record and decision.account == "unknown"


@pytest.mark.parametrize(
    ("host", "rule"),
    [
        ("connect.facebook.net", "not-a-page-host"),  # the widget SDK other sites embed
        ("static.xx.fbcdn.net", "not-a-page-host"),  # CDN
        ("scontent.cdninstagram.com", "not-a-page-host"),
        ("platform.twitter.com", "not-a-page-host"),  # embedded tweets
        ("pbs.twimg.com", "not-a-page-host"),
        ("www.twimg.com", "not-a-page-host"),  # a page prefix on a CDN (reading) domain
        ("fb.me", "not-a-page-host"),  # a short link
        ("graph.facebook.com", "not-a-page-host"),  # API
        ("www.youtube.com", "no-rule-matched"),  # video: as for staff devices, not recorded
        ("www.example.com", "not-social-media"),
    ],
)
def test_widgets_apis_cdns_and_other_sites_are_not_recorded(
    policy: Policy, host: str, rule: str
) -> None:
    decision = decide_tunnelled(host, AT, VISITOR, policy)
    assert decision.rule == rule and not decision.record
    assert not respond_tunnel(decision, None, AT.timestamp()).record


def test_seen_at_most_once_per_period_and_the_tunnel_always_goes_through(policy: Policy) -> None:
    decision = decide_tunnelled("www.facebook.com", AT, VISITOR, policy)
    now = AT.timestamp()
    first = respond_tunnel(decision, None, now)
    assert first.request == "forward" and first.record
    assert not respond_tunnel(decision, now, now + SEEN_SECONDS - 1).record
    assert respond_tunnel(decision, now, now + SEEN_SECONDS).record
    assert respond_tunnel(decision, now, now - 60).record  # a clock set back: not silenced
    assert all(respond_tunnel(decision, last, now).request == "forward" for last in (None, now))


def test_outside_working_time_still_seen_clause_7_covers_the_schools_network(
    policy: Policy,
) -> None:
    evening = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
    decision = decide_tunnelled("www.facebook.com", evening, OWN_DEVICE, policy)
    assert decision.record and not decision.working_time and "7" in decision.clauses
