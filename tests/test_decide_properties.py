"""decide() on arbitrary facts: it never raises, and its answers keep the policy's promises."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy import Facts, Policy, decide
from policy.configdir import load_policy
from policy.vocabulary import ACCOUNT_KINDS, ACTIONS, OUTCOMES

POLICY = load_policy()
CATALOGUE_HOSTS = [d for p in POLICY.bundle["platforms"] for d in p["domains"][:3]]
hosts = st.one_of(
    st.sampled_from(CATALOGUE_HOSTS),
    st.sampled_from(CATALOGUE_HOSTS).map(lambda h: f"www.{h}"),
    st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z0-9-]{1,12}){0,3}\.(com|org|co\.uk|net)", fullmatch=True),
)
fetch = st.dictionaries(
    st.sampled_from(
        ["sec-fetch-mode", "sec-fetch-dest", "sec-fetch-site", "accept", "content-type"]
    ),
    st.sampled_from(
        [
            "navigate",
            "document",
            "iframe",
            "no-cors",
            "cors",
            "image",
            "script",
            "text/html",
            "*/*",
            "same-origin",
            "cross-site",
            "application/json",
        ]
    ),
)
times = st.integers(min_value=0, max_value=2 * 365 * 24 * 60).map(
    lambda m: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=m)
)
facts = st.builds(
    Facts,
    host=hosts,
    path=st.sampled_from(["/", "/api/graphql/", "/i/api/1.1/dm/new2.json", "/w/index.php", "/x"]),
    query=st.sampled_from(["", "action=submit", "a=b"]),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS"]),
    headers=fetch,
    cookies=st.dictionaries(
        st.sampled_from(["c_user", "twid", "ds_user_id", "other"]), st.text(max_size=30), max_size=3
    ),
    body=st.one_of(st.none(), st.binary(max_size=300)),
    at=times,
    client=st.one_of(st.none(), st.ip_addresses().map(str), st.text(max_size=10)),
)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return POLICY


@settings(max_examples=1500, deadline=None)
@given(request=facts)
def test_decide_never_raises_and_keeps_its_promises(policy: Policy, request: Facts) -> None:
    decision = decide(request, policy)
    assert decision.outcome in OUTCOMES and decision.action in ACTIONS
    assert decision.account in ACCOUNT_KINDS
    assert all(clause in policy.clauses for clause in decision.clauses)
    if decision.platform is None:
        assert (decision.outcome, decision.clauses, decision.record) == ("allow", (), False)
    if decision.action == "subresource":
        assert decision.outcome == "allow" and not decision.record
    if decision.outcome in ("log", "warn", "block"):
        assert decision.record and decision.clauses
    assert decision.reason.endswith(f"(rule {decision.rule}).") or decision.platform is None


def test_a_time_without_offset_is_refused(policy: Policy) -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        decide(Facts(host="www.facebook.com", at=datetime(2026, 11, 25, 10)), policy)
