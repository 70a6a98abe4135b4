"""Host classification: by registrable domain, never by substring."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy import Policy
from policy.configdir import load_config_dir, load_policy

LABEL = st.from_regex(r"zz[a-z0-9]{1,12}", fullmatch=True)
CATALOGUE = [(d, p.id) for p in load_config_dir().platforms.platforms for d in p.domains]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


@settings(max_examples=300, deadline=None)
@given(entry=st.sampled_from(CATALOGUE), label=LABEL)
def test_any_subdomain_of_a_catalogue_domain_is_that_platform(
    policy: Policy, entry: tuple[str, str], label: str
) -> None:
    domain, platform = entry
    assert policy.classifier.platform_for(f"{label}.{domain}") == platform


@settings(max_examples=300, deadline=None)
@given(
    entry=st.sampled_from(CATALOGUE), label=LABEL, suffix=st.sampled_from(["org", "co.uk", "net"])
)
def test_a_catalogue_domain_inside_another_domain_is_not_the_platform(
    policy: Policy, entry: tuple[str, str], label: str, suffix: str
) -> None:
    domain, _ = entry
    assert policy.classifier.platform_for(f"{domain}.{label}.{suffix}") is None
    assert policy.classifier.platform_for(f"{label}{domain}") is None


@pytest.mark.parametrize(
    "host",
    [
        "facebook.com.example.org",
        "notfacebook.com",
        "facebookresearch.github.io",
        "localhost",
        "127.0.0.1",
        "::1",
        "",
        ".",
        "com",
        "co.uk",
    ],
)
def test_look_alikes_and_odd_hosts_are_not_social_media(policy: Policy, host: str) -> None:
    assert policy.classifier.platform_for(host) is None


def test_case_and_trailing_dot_do_not_matter(policy: Policy) -> None:
    assert policy.classifier.platform_for("WWW.FaceBook.COM.") == "facebook"


def test_the_classifier_cache_is_bounded(policy: Policy) -> None:
    for i in range(20_000):
        policy.classifier.platform_for(f"h{i}.example.org")
    info = policy.classifier.platform_for.cache_info()
    assert info.currsize <= info.maxsize < 20_000
