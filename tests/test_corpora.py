"""The platform catalogue (config/platforms.yaml) checked against public domain lists.

The lists are the v2fly/domain-list-community files copied to
../shared/corpora/v2fly-domain-list-community (beside the checkout; see its README). For every
list of a catalogued platform, each entry must classify to that platform through the real
classifier (config -> bundle -> Policy); for the clearly non-social lists, no entry may classify
to any platform. Every entry that does not follow its list is named below with the reason.

What is checked per entry:
- `example.com` / `domain:example.com`: the domain and a made-up subdomain of it;
- `full:a.example.com`: that host only;
- a bare name with no dot (`youtube`): the TLD itself and a made-up name under it;
- a domain rule on a shared CDN or cloud domain (NARROWED): the catalogue lists it as an exact
  host, so the host itself is checked, and the made-up subdomain must NOT be the platform's;
- `keyword:` and `regexp:` rules: not expressible in the catalogue; each is named in
  SKIPPED_RULES.

Wikimedia: the corpora README counts it among the non-social lists. In our catalogue it is the
`wikipedia` platform (category `wiki`): reading a wiki is allowed without any event, but editing
one is public posting, which the policy covers. So `wikimedia` is a positive list here, and the
non-social checks use bbc, nytimes, khanacademy and python.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import tldextract
import yaml

from policy.bundle import compile_bundle
from policy.configdir import load_config_dir
from policy.engine import Policy

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
# v2fly/domain-list-community (MIT, its LICENSE beside it), kept in the checkout: the same lists
# on any machine.
CORPORA = ROOT / "tests" / "data" / "v2fly-domain-list-community"
DATA = CORPORA / "data"
PROBE = "cw-probe."  # a made-up label: the subdomain checked under every domain rule

pytestmark = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"the domain-list corpora are not at {CORPORA}"
)

# --- What each list means -----------------------------------------------------------------------

# Lists whose every entry must classify to one catalogued platform (list -> platform id).
POSITIVE: dict[str, str] = {
    "bluesky": "bluesky",
    "clubhouse": "clubhouse",
    "dailymotion": "dailymotion",
    "deviantart": "deviantart",
    "discord": "discord",
    "douyin": "douyin",
    "facebook": "facebook",
    "flickr": "flickr",
    "imgur": "imgur",
    "instagram": "instagram",
    "line": "line",
    "linkedin": "linkedin",
    "medium": "medium",
    "messenger": "messenger",
    "misskey": "misskey",
    "misskey-universe": "misskey",
    "mixi": "mixi",
    "ok": "ok",
    "pinterest": "pinterest",
    "quora": "quora",
    "reddit": "reddit",
    "signal": "signal",
    "snap": "snapchat",
    "telegram": "telegram",
    "threads": "threads",
    "tiktok": "tiktok",
    "tumblr": "tumblr",
    "twitch": "twitch",
    "twitter": "x",
    "viber": "viber",
    "vimeo": "vimeo",
    "vk": "vk",
    "whatsapp": "whatsapp",
    "wikimedia": "wikipedia",
    "x": "x",
    "xiaohongshu": "xiaohongshu",
    "youtube": "youtube",
}

# Lists spanning several platforms: an included entry must classify to the platform of the list
# it is written in (POSITIVE); the list's own entries to the platform given here.
MIXED: dict[str, dict[str, str]] = {
    "category-social-media-!cn": {
        "fansly.com": "fansly",
        "onlyfans.com": "onlyfans",
        "truthsocial.com": "truthsocial",
        "joinmastodon.org": "mastodon",
        "mastodon.online": "mastodon",
        "mastodon.social": "mastodon",
        "pawoo.net": "mastodon",
    },
}

# Clearly non-social lists: no entry may classify to any platform.
NEGATIVE: tuple[str, ...] = ("bbc", "khanacademy", "nytimes", "python")

# Lists deliberately not catalogued: their own entries must not classify (but see
# UNDER_CATALOGUED). Their entries pulled into a positive list are EXCEPTIONS there.
NOT_CATALOGUED: dict[str, str] = {
    "meta": "the Meta umbrella: its includes are checked list by list; its own entries are the "
    "company and its shop (meta.com, atmeta.com) and AI (meta.ai, llama.com)",
    "facebook-dev": "Meta's developer and open-source project sites (React, RocksDB ...)",
    "oculus": "Oculus / Meta Quest VR hardware and store",
    "kakao": "mixes KakaoTalk with the Daum web portal, banking, payments, music and games",
    "xai": "xAI's Grok is an AI service, not social media (pulled in by `x`)",
    "poe": "Poe is an AI chat service, not a forum (pulled in by `quora`)",
    "askdiandian": "Diandian is an AI search service (pulled in by `xiaohongshu`)",
}

# Entries of NOT_CATALOGUED lists that do classify: they sit under a catalogued domain.
UNDER_CATALOGUED: dict[tuple[str, str], tuple[str, str]] = {
    ("facebook-dev", "developers.facebook.com"): ("facebook", "a host under facebook.com"),
    ("xai", "grok.x.com"): ("x", "a host under x.com; Grok inside X is part of X's own pages"),
}

# Entries of positive lists that must NOT classify to the list's platform, with the reason.
# Keyed by (list, entry); the list is the one being checked or the one the entry is written in.
_XAI = "xAI's Grok is an AI service, not social media"
_POE = "Poe is an AI chat service, not a forum"
_DIANDIAN = "Diandian is Xiaohongshu's AI search service, not social media"
_TON = "The Open Network is a blockchain run by the TON Foundation, not Telegram's messaging"
_VKPAY = "VK Pay is a payment service, not the social network"
_QISHUI = "Qishui is ByteDance's music-streaming app, not social media"
_PAY = "a payment service, not social media"
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("x", "grok.com"): _XAI,
    ("x", "grokipedia.com"): "Grokipedia is xAI's AI-written encyclopedia, not social media",
    ("x", "x.ai"): "xAI's company site: AI, not social media",
    ("quora", "poe.com"): _POE,
    ("quora", "poecdn.net"): _POE,
    ("xiaohongshu", "askdiandian.com"): _DIANDIAN,
    ("xiaohongshu", "diandianlife.top"): _DIANDIAN,
    ("telegram", "ton.org"): _TON,
    ("telegram", "toncenter.com"): _TON,
    ("vk", "vkpay.app"): _VKPAY,
    ("vk", "vkpay.com"): _VKPAY,
    ("vk", "vkpay.io"): _VKPAY,
    ("vk", "vkpay.ru"): _VKPAY,
    ("douyin", "qishui.cn"): _QISHUI,
    ("douyin", "qishui.com"): _QISHUI,
    ("douyin", "qishui.com.cn"): _QISHUI,
    ("douyin", "qishuimusic.cn"): _QISHUI,
    ("douyin", "qishuimusic.com.cn"): _QISHUI,
    ("douyin", "douyinpay.com"): "Douyin Pay: " + _PAY,
    ("douyin", "ulpay.com"): "ByteDance's payment licence holder: " + _PAY,
    ("viber", "s-bid.rmp.rakuten.com"): "ad bidding on Rakuten's shared rakuten.com (Viber's "
    "parent), serving Rakuten's services, not Viber's own",
}

# Shared CDN, cloud and link domains: never claimed by a platform, only exact hosts under them.
SHARED_PARENTS: dict[str, str] = {
    "akamaiedge.net": "Akamai",
    "akamaihd.net": "Akamai",
    "akamaized.net": "Akamai",
    "amazonaws.com": "Amazon Web Services (s3.amazonaws.com)",
    "app.link": "Branch.io deep links",
    "appsflyersdk.com": "AppsFlyer",
    "cdn20.com": "a Chinese CDN",
    "cloudflare.net": "Cloudflare",
    "cloudfront.net": "Amazon CloudFront",
    "dc-msedge.net": "Microsoft's edge network",
    "edgekey.net": "Akamai",
    "edgesuite.net": "Akamai",
    "fastly.net": "Fastly",
    "google.com": "Google",
    "googleapis.com": "Google APIs and Cloud Storage",
    "googleusercontent.com": "Google's user content",
    "l-msedge.net": "Microsoft's edge network",
    "omtrdc.net": "Adobe Analytics",
    "rakuten.com": "Rakuten",
    "zendesk.com": "Zendesk help desks",
}

# Domain rules on a shared parent: catalogued as exact hosts (the rule's subdomains are not).
NARROWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("linkedin", "l-0005.dc-msedge.net"),
        ("linkedin", "l-0005.l-msedge.net"),
        ("pinterest", "pinimg.com.cdn.cloudflare.net"),
        ("pinterest", "pinterest.map.fastly.net"),
        ("reddit", "reddit.app.link"),
        ("reddit", "reddit.map.fastly.net"),
        ("tiktok", "tiktokcdn-us.com.edgesuite.net"),
        ("tiktok", "tiktokcdn.com.akamaized.net"),
        ("tiktok", "tiktokcdn.com.edgesuite.net"),
        ("tiktok", "tiktokv.com.edgekey.net"),
        ("tiktok", "tiktokv.com.edgesuite.net"),
        ("twitter", "twitter.map.fastly.net"),
        ("youtube", "wide-youtube.l.google.com"),
        ("youtube", "youtube-ui.l.google.com"),
        ("youtube", "youtube.googleapis.com"),
        ("youtube", "youtubeembeddedplayer.googleapis.com"),
        ("youtube", "youtubei.googleapis.com"),
    }
)

# keyword:/regexp: rules, keyed by (list written in, "kind:value").
SKIPPED_RULES: dict[tuple[str, str], str] = {
    ("vimeo", r"regexp:^[0-9]+vod-adaptive\.akamaized\.net$"): "the catalogue has exact hosts "
    "and domains only, and akamaized.net is a shared Akamai domain",
}

# Names that only look like a platform's: they must never classify.
LOOK_ALIKES = (
    "facebook.com.example.org",
    "notfacebook.com",
    "facebookresearch.github.io",
    "www.facebook.com.evil.test",
    "youtube.com-watch.example.net",
    "twitter.co.example",
)

# Platform ids that other parts of ClauseWarden rely on, with their categories.
CONTRACT: dict[str, str] = {
    "facebook": "social_network",
    "messenger": "messaging",
    "instagram": "social_network",
    "threads": "social_network",
    "whatsapp": "messaging",
    "x": "social_network",
    "linkedin": "professional_network",
    "tiktok": "social_network",
    "snapchat": "social_network",
    "pinterest": "social_network",
    "reddit": "forum",
    "tumblr": "blog",
    "youtube": "video",
    "wikipedia": "wiki",
    "blogger": "blog",
    "wordpress": "blog",
    "medium": "blog",
    "discord": "messaging",
    "telegram": "messaging",
    "bluesky": "social_network",
    "mastodon": "social_network",
    "quora": "forum",
    "twitch": "social_network",  # social use under clause 7 (issue 11 §5), not a video library
    "flickr": "social_network",
    "vk": "social_network",
    "mumsnet": "forum",
    "nextdoor": "social_network",
    "bereal": "social_network",
    "substack": "blog",
}

# --- The list format ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str  # domain, full, tld, keyword, regexp
    value: str
    attrs: frozenset[str]
    origin: str  # the list the rule is written in
    line: int

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.value} ({self.origin}:{self.line})"


def _tokens(raw: str) -> list[str]:
    return raw.split("#", 1)[0].split()


@cache
def _own_rules(name: str) -> tuple[tuple[Rule, ...], tuple[tuple[str, frozenset[str]], ...]]:
    """The rules written in one list, and its includes (target, attribute filter)."""
    rules: list[Rule] = []
    includes: list[tuple[str, frozenset[str]]] = []
    for number, raw in enumerate((DATA / name).read_text(encoding="utf-8").splitlines(), 1):
        tokens = _tokens(raw)
        if not tokens:
            continue
        first, rest = tokens[0], tokens[1:]
        attrs = frozenset(t[1:] for t in rest if t.startswith("@"))
        if first.startswith("include:"):
            includes.append((first.removeprefix("include:"), attrs))
            continue
        kind, sep, value = first.partition(":")
        if not sep:
            kind, value = "domain", first
        if kind not in ("domain", "full", "keyword", "regexp"):
            raise ValueError(f"{name}:{number}: unknown rule type {kind!r}")
        if kind == "domain" and "." not in value:
            kind = "tld"
        if kind != "regexp":
            value = value.lower()
        rules.append(Rule(kind, value, attrs, name, number))
    return tuple(rules), tuple(includes)


@cache
def _affiliated(name: str) -> tuple[Rule, ...]:
    """Rules of other lists that say `&name`: they belong to `name` too."""
    found: list[Rule] = []
    for path in sorted(DATA.iterdir()):
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            tokens = _tokens(raw)
            if tokens and f"&{name}" in tokens[1:] and not tokens[0].startswith("include:"):
                own = _own_rules(path.name)[0]
                found += [r for r in own if r.line == number]
    return tuple(found)


def list_rules(name: str, _seen: tuple[str, ...] = ()) -> list[Rule]:
    """Every rule of a list, following `include:` (with `@attr` / `@-attr` filters)."""
    if name in _seen:
        raise ValueError(f"include cycle: {' -> '.join((*_seen, name))}")
    own, includes = _own_rules(name)
    rules = [*own, *_affiliated(name)]
    for target, wanted in includes:
        need = {a for a in wanted if not a.startswith("-")}
        refuse = {a[1:] for a in wanted if a.startswith("-")}
        rules += [
            r
            for r in list_rules(target, (*_seen, name))
            if need <= r.attrs and not refuse & r.attrs
        ]
    return rules


# --- Expectations -------------------------------------------------------------------------------

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registrable(host: str) -> str:
    return _EXTRACT(host).top_domain_under_public_suffix


@dataclass(frozen=True, slots=True)
class Check:
    rule: Rule
    host: str
    want: str | None  # the platform the host must classify to
    must_not: bool = False  # True: the host must classify to anything BUT `want`
    why: str = ""


def _exception(name: str, rule: Rule) -> str | None:
    return EXCEPTIONS.get((name, rule.value)) or EXCEPTIONS.get((rule.origin, rule.value))


def _narrowed(name: str, rule: Rule) -> bool:
    return (name, rule.value) in NARROWED or (rule.origin, rule.value) in NARROWED


def _hosts_of(rule: Rule) -> list[str]:
    if rule.kind in ("domain", "tld"):
        return [rule.value, PROBE + rule.value]
    return [rule.value]


def checks(name: str) -> Iterator[Check]:
    """What the classifier must say for each entry of one list."""
    rules = list_rules(name)
    if name in NOT_CATALOGUED:
        rules = [r for r in rules if r.origin == name]
    for rule in rules:
        if rule.kind in ("keyword", "regexp"):
            continue  # named in SKIPPED_RULES (test_every_unexpressible_rule_is_named)
        if name in NEGATIVE:
            for host in _hosts_of(rule):
                yield Check(rule, host, None, why="not social media")
            continue
        if name in NOT_CATALOGUED:
            want, why = UNDER_CATALOGUED.get((name, rule.value), (None, NOT_CATALOGUED[name]))
            for host in _hosts_of(rule) if want is None else [rule.value]:
                yield Check(rule, host, want, why=why)
            continue
        if name in MIXED and rule.origin == name:
            want = MIXED[name][rule.value]
        else:
            want = POSITIVE[rule.origin if name in MIXED else name]
        reason = _exception(name, rule)
        if reason is not None:
            yield Check(rule, rule.value, want, must_not=True, why=reason)
        elif _narrowed(name, rule):
            parent = SHARED_PARENTS.get(registrable(rule.value), "?")
            yield Check(rule, rule.value, want, why=f"exact host on {parent}")
            yield Check(rule, PROBE + rule.value, want, must_not=True, why=f"shared {parent}")
        else:
            for host in _hosts_of(rule):
                yield Check(rule, host, want)


def failures(name: str, platform_for: Callable[[str], str | None]) -> list[str]:
    wrong = []
    for check in checks(name):
        got = platform_for(check.host)
        if (got == check.want) == check.must_not:
            want = f"anything but {check.want!r}" if check.must_not else repr(check.want)
            why = f" [{check.why}]" if check.why else ""
            wrong.append(f"{check.host} -> {got!r}, want {want}{why}  <- {check.rule.label}")
    return wrong


# --- Tests --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def platform_for() -> Callable[[str], str | None]:
    policy = Policy.from_bundle(compile_bundle(load_config_dir(CONFIG)))
    classify: Callable[[str], str | None] = policy.classifier.platform_for
    return classify


@pytest.mark.parametrize("name", [*POSITIVE, *MIXED])
def test_social_list_classifies_to_its_platform(
    name: str, platform_for: Callable[[str], str | None]
) -> None:
    wrong = failures(name, platform_for)
    assert not wrong, f"{len(wrong)} entries of list {name!r} misclassified:\n" + "\n".join(wrong)


@pytest.mark.parametrize("name", NEGATIVE)
def test_non_social_list_never_classifies(
    name: str, platform_for: Callable[[str], str | None]
) -> None:
    wrong = failures(name, platform_for)
    assert not wrong, f"{len(wrong)} entries of list {name!r} classified:\n" + "\n".join(wrong)


@pytest.mark.parametrize("name", NOT_CATALOGUED)
def test_list_left_out_stays_out(name: str, platform_for: Callable[[str], str | None]) -> None:
    wrong = failures(name, platform_for)
    assert not wrong, f"list {name!r} ({NOT_CATALOGUED[name]}):\n" + "\n".join(wrong)


@pytest.mark.parametrize("host", LOOK_ALIKES)
def test_look_alike_never_classifies(host: str, platform_for: Callable[[str], str | None]) -> None:
    assert platform_for(host) is None


@pytest.mark.parametrize("parent", sorted(SHARED_PARENTS))
def test_shared_parent_is_never_claimed(
    parent: str, platform_for: Callable[[str], str | None]
) -> None:
    assert platform_for(parent) is None
    assert platform_for(PROBE + parent) is None


def test_every_list_is_accounted_for() -> None:
    kinds = [set(POSITIVE), set(MIXED), set(NEGATIVE), set(NOT_CATALOGUED)]
    named = Counter(name for kind in kinds for name in kind)
    assert [n for n, count in named.items() if count > 1] == []
    on_disk = {path.name for path in DATA.iterdir() if path.is_file()}
    assert on_disk - set(named) == set(), "lists with no decision: add them to a table above"
    assert set(named) - on_disk == set(), "tables name lists that are not in the corpora"


def test_every_unexpressible_rule_is_named() -> None:
    found = {
        (r.origin, f"{r.kind}:{r.value}")
        for path in DATA.iterdir()
        for r in _own_rules(path.name)[0]
        if r.kind in ("keyword", "regexp")
    }
    assert found == set(SKIPPED_RULES)


def test_every_rule_on_a_shared_parent_is_named() -> None:
    """A domain rule on a shared parent is NARROWED or an EXCEPTION: never silently widened."""
    on_shared = {
        (r.origin, r.value)
        for name in POSITIVE
        for r in list_rules(name)
        if r.kind == "domain"
        and registrable(r.value) in SHARED_PARENTS
        and _exception(name, r) is None
    }
    assert on_shared == NARROWED


def test_tables_name_real_entries() -> None:
    """No stale entries: every named entry is in the list it is filed under."""
    names = (*POSITIVE, *MIXED, *NOT_CATALOGUED)
    values = {name: {r.value for r in list_rules(name)} for name in names}
    keys = [*EXCEPTIONS, *NARROWED, *UNDER_CATALOGUED]
    keys += [(name, value) for name, own in MIXED.items() for value in own]
    assert [key for key in keys if key[1] not in values[key[0]]] == []


def test_catalogue_never_claims_a_shared_parent() -> None:
    """Read the YAML directly: a `domains` entry on a shared parent would widen it."""
    catalogue = yaml.safe_load((CONFIG / "platforms.yaml").read_text(encoding="utf-8"))
    wrong = [
        f"{p['id']}: {domain}"
        for p in catalogue["platforms"]
        for domain in p["domains"]
        if registrable(domain) in SHARED_PARENTS
    ]
    assert wrong == [], "list these under `hosts` (exact) instead"


def test_catalogue_has_the_contract_platforms() -> None:
    catalogue = yaml.safe_load((CONFIG / "platforms.yaml").read_text(encoding="utf-8"))
    categories = {p["id"]: p["category"] for p in catalogue["platforms"]}
    assert {pid: categories.get(pid) for pid in CONTRACT} == CONTRACT


def test_corpora_summary(platform_for: Callable[[str], str | None]) -> None:
    """How much was checked (visible with -s), and the exceptions with their reasons."""
    lines = [f"{'list':28} {'rules':>5} {'hosts':>5} {'except':>6} {'narrow':>6} {'skip':>4}"]
    total = 0
    for name in (*POSITIVE, *MIXED, *NEGATIVE, *NOT_CATALOGUED):
        rules = list_rules(name)
        found = list(checks(name))
        excepted = {c.rule.value for c in found if c.must_not and c.host == c.rule.value}
        narrowed = sum(_narrowed(name, r) for r in rules)
        skipped = sum(r.kind in ("keyword", "regexp") for r in rules)
        total += len(found)
        lines.append(
            f"{name:28} {len(rules):5} {len(found):5} {len(excepted):6} {narrowed:6} {skipped:4}"
        )
        if name in POSITIVE or name in MIXED:
            assert found, f"nothing checked in positive list {name!r}"
    lines.append(f"{'hosts checked in all':28} {total:11}")
    lines.append("exceptions:")
    for (name, entry), reason in sorted(EXCEPTIONS.items()):
        lines.append(f"  {name}: {entry} -> {platform_for(entry)!r}: {reason}")
    for (name, rule), reason in sorted(SKIPPED_RULES.items()):
        lines.append(f"  {name}: {rule} skipped: {reason}")
    for name, reason in NOT_CATALOGUED.items():
        lines.append(f"  list {name} not catalogued: {reason}")
    print("\n".join(lines))
    assert total > 2000
