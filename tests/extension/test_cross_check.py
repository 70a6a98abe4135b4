"""The Python core and the JavaScript twin give the same Decision, field for field.

Every shared vector and >= 10,000 generated facts (hosts from ../shared/corpora and look-alikes,
methods, headers, cookies, bodies, times across the school year, clients) are decided by
`policy.decide()` here and by `extension/js/policy/decide.js` in one node process; every field of
every Decision (reason sentence included) must agree.
"""

import base64
import json
import random
import re
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import tldextract

from policy import Facts, Policy, decide
from policy.vocabulary import ACTION_LABELS, CATEGORY_LABELS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VECTORS = json.loads((ROOT / "tests" / "vectors" / "decisions.json").read_text())
CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"
RANDOM_FACTS = 12_000
SEED = 20261125

METHODS = ["GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]
HEADER_SETS: list[dict[str, str]] = [
    {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document", "sec-fetch-site": "none"},
    {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document"},
    {"sec-fetch-mode": "navigate"},
    {"sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe"},
    {"sec-fetch-mode": "no-cors", "sec-fetch-dest": "script"},
    {"sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"},
    {"sec-fetch-mode": "cors", "sec-fetch-dest": "empty"},
    {"sec-fetch-dest": "document"},
    {"accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"},
    {"accept": "application/json"},
    {},
]
NON_SOCIAL = [
    "www.bbc.co.uk",
    "www.gov.uk",
    "wycliffe.lancs.sch.uk",
    "classroom.google.com",
    "www.khanacademy.org",
    "docs.python.org",
    "example.com",
    "localhost",
    "intranet",
    "printer.local",
    "10.0.0.1",
    "192.168.1.20",
    "::1",
    "xn--bcher-kva.example",
    "b\u00fccher.example",
    "www.nytimes.com",
    "s3.amazonaws.com",
    "cdn.cloudflare.net",
    "akamaihd.net",
    "edgesuite.net",
    "github.io",
    "blogspot.com",
]
COOKIE_VALUES = [
    "100000000000001",
    "100000000000001%0A",
    "2000001",
    "u=2000001",
    "u%3D2000001",
    "3000001",
    "123456789",
    "",
    "abc",
    "%E2%82%AC12",
    "\u0661\u0662\u0663",
    "%D9%A1%D9%A2",
    "12%zz",
    "%C3",
    "5555:other",
    "user|1234|x",
    "deadbeef12",
    "Some User",
    "#hidden",
    "u=12\n",
]
OFFSETS = [timedelta(0), timedelta(hours=1), timedelta(hours=-5), timedelta(hours=5, minutes=30)]


def corpus_hosts() -> list[str]:
    hosts: set[str] = set()
    data = CORPORA / "v2fly-domain-list-community" / "data"
    for path in sorted(data.iterdir()) if data.is_dir() else ():
        for line in path.read_text(encoding="utf-8").splitlines():
            rule = line.split("#", 1)[0].strip().split(" ", 1)[0]
            if not rule or rule.startswith(("include:", "keyword:", "regexp:")):
                continue
            kind, _, name = rule.rpartition(":")
            hosts.add(name.lower())
            if kind != "full":
                hosts.add(f"www.{name.lower()}")
    return sorted(hosts)


def random_host(rng: random.Random) -> str:
    """A made-up host name: mostly not social media, sometimes under a brand TLD."""
    letters = "abcdefghijklmnopqrstuvwxyz0123456789-"
    labels = [
        "".join(rng.choice(letters) for _ in range(rng.randrange(1, 12)))
        for _ in range(rng.randrange(1, 4))
    ]
    suffix = rng.choice(
        ["com", "co.uk", "org", "net", "io", "sch.uk", "gov.uk", "youtube", "flickr", "invalid"]
    )
    return ".".join([*labels, suffix])


def look_alike(rng: random.Random, host: str) -> str:
    labels = host.split(".")
    choice = rng.randrange(9)
    if choice == 0:
        return f"not{host}"
    if choice == 1:
        return f"{host}.example.org"
    if choice == 2 and len(labels[0]) > 2:
        i = rng.randrange(len(labels[0]))
        return ".".join([labels[0][:i] + labels[0][i + 1 :], *labels[1:]])
    if choice == 3:
        return host.upper() + "."
    if choice == 4:
        return f"cw-probe.{host}"
    if choice == 5:
        return host.replace(".", "-", 1)
    if choice == 6:
        return f"{labels[0]}.{rng.choice(['evil', 'co', 'xyz', 'youtube', 'flickr', 'co.uk'])}"
    if choice == 7:
        return f" {host} "
    return f"a.b.{host}"


def random_time(rng: random.Random) -> datetime:
    start = datetime(2025, 9, 1, tzinfo=UTC)
    at = start + timedelta(seconds=rng.randrange(int(timedelta(days=850).total_seconds())))
    if rng.random() < 0.3:  # land on a working-hours boundary in London (either offset)
        boundary = rng.choice([(8, 0), (12, 0), (13, 0), (16, 30), (17, 0)])
        at = at.replace(hour=boundary[0] - rng.choice([0, 1]), minute=boundary[1], second=0)
        at += timedelta(seconds=rng.choice([-1, 0, 1]))
    return at.astimezone(timezone(rng.choice(OFFSETS)))


def random_client(rng: random.Random) -> str | None:
    kind = rng.randrange(12)
    if kind < 5:
        return None
    return [
        f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
        f"172.{rng.randrange(14, 34)}.0.{rng.randrange(256)}",
        f"192.168.{rng.randrange(256)}.7",
        f"{rng.randrange(1, 224)}.{rng.randrange(256)}.1.2",
        rng.choice(["::1", "fd12:3456::1", "fe80::1%eth0", "::ffff:10.1.2.3", "2001:db8::5"]),
        rng.choice(["010.0.0.1", "10.0.0", "not-an-ip", "", "::ffff:8.8.8.8", "1:2:3:4:5:6:7:8"]),
        "127.0.0.1",
    ][kind - 5]


def random_fact(
    rng: random.Random, hosts: list[str], seeds: list[dict[str, Any]]
) -> dict[str, Any]:
    seed = rng.choice(seeds)["facts"]
    use_seed_request = rng.random() < 0.35
    host = rng.choice(hosts) if rng.random() < 0.85 else random_host(rng)
    if rng.random() < 0.25:
        host = look_alike(rng, host)
    fact: dict[str, Any] = {
        "method": seed["method"] if use_seed_request else rng.choice(METHODS),
        "headers": dict(rng.choice(HEADER_SETS)),
        "cookies": {},
        "body": None,
        "at": random_time(rng).isoformat(),
        "client": random_client(rng),
        "device_group": rng.choice([None] * 8 + ["visitors", "staff-wifi", "no-such-group"]),
    }
    seed_parts = seed["url"].split("?", 1)
    if use_seed_request:
        path_query = seed["url"].split("/", 3)[3] if seed["url"].count("/") >= 3 else ""
        fact["url"] = f"https://{seed['url'].split('/')[2]}/{path_query}"
        fact["body"] = seed["body"]
        fact["headers"] = dict(seed["headers"]) if rng.random() < 0.7 else fact["headers"]
    else:
        path = rng.choice(["/", "/home", "/api/graphql/", "/messages/t/1", "/watch", "/w/api.php"])
        query = rng.choice(["", "v=1", "action=submit", "q=FollowUserMutation"])
        fact["url"] = f"https://{host}{path}" + (f"?{query}" if query else "")
    if len(seed_parts) == 2 and rng.random() < 0.1:
        fact["url"] += rng.choice(["&x=%E2%82%AC", "#frag", "&action=create"])
    if rng.random() < 0.15:  # given as host/path/query, so paths can end in a newline
        host_part = fact["url"].split("/", 3)[2]
        rest = "/" + fact["url"].split("/", 3)[3] if fact["url"].count("/") >= 3 else "/"
        path, _, query = rest.partition("?")
        del fact["url"]
        fact.update(host=host_part, path=path + rng.choice(["", "\n", "/"]), query=query)
    if rng.random() < 0.4:
        names = ["c_user", "ds_user_id", "twid", "multi_sids", "cookie_accid", "login", "uid"]
        names += ["wordpress_logged_in", "centralauth_User", "xs"]
        for name in rng.sample(names, rng.randrange(1, 4)):
            fact["cookies"][name] = rng.choice(COOKIE_VALUES)
    if fact["body"] is not None and rng.random() < 0.2:
        fact["body"] = rng.choice([fact["body"] + "\n", "\u00e9" + fact["body"], fact["body"][:20]])
    elif fact["body"] is None and fact["method"] in ("POST", "PUT") and rng.random() < 0.3:
        fact["body"] = rng.choice(["act=a_send\n", "visibility=direct", "{}", "caf\u00e9"])
    return fact


TRICKY_URLS = [
    "https://WWW.FaceBook.COM./",
    "https://user:pw@www.facebook.com:8443/path?q=1#frag",
    "https://www.facebook.com\\@evil.example/",
    "https://evil.example\\@www.facebook.com/",
    "https://[::1]:8080/",
    "https://[fe80::1%25eth0]/",
    "HTTPS://x.com",
    "https://x.com?q",
    "https://x.com#only-fragment",
    "//www.facebook.com/no-scheme",
    "https://www.facebook.com/messages/send/?a=%zz#x?y",
    "https://www.facebook.com/%61pi/graphql/",
    "\t https://www.face\nbook.com/",
    "https://xn--fcebook-8va.com/",
    "https://www.facebook.com:/",
    "https://m.facebook.com/ajax/add_friend/action.php",
    "mailto:someone@facebook.com",
]


def tricky_url_facts() -> list[dict[str, Any]]:
    return [
        {
            "url": url,
            "method": method,
            "headers": {"sec-fetch-mode": "navigate"},
            "cookies": {},
            "body": None,
            "at": "2026-11-25T10:00:00+00:00",
            "client": None,
            "device_group": None,
        }
        for url in TRICKY_URLS
        for method in ("GET", "POST")
    ]


def long_body_facts() -> list[dict[str, Any]]:
    """Bodies longer than the peek, with a multi-byte character cut at its end."""
    out = []
    target = b"fb_api_req_friendly_name=ComposerStoryCreateMutation"
    for pad in range(65530, 65540):
        raw = b"x" * pad + "\u20ac".encode() + target
        for body in (raw, b"x" * (65536 - len(target) - 1) + target + b"\xff"):
            out.append(
                {
                    "url": "https://www.facebook.com/api/graphql/",
                    "method": "POST",
                    "headers": {"sec-fetch-mode": "cors"},
                    "cookies": {},
                    "body_b64": base64.b64encode(body).decode(),
                    "at": "2026-11-25T10:00:00+00:00",
                    "client": None,
                    "device_group": None,
                }
            )
    return out


def python_decision(fact: dict[str, Any], policy: Policy) -> dict[str, Any]:
    if "body_b64" in fact:
        body: bytes | None = base64.b64decode(fact["body_b64"])
    else:
        body = fact["body"].encode() if fact["body"] is not None else None
    common: dict[str, Any] = {
        "method": fact["method"],
        "headers": fact["headers"],
        "cookies": fact["cookies"],
        "body": body,
        "at": datetime.fromisoformat(fact["at"]),
        "client": fact["client"],
        "device_group": fact["device_group"],
    }
    try:
        if "url" in fact:
            facts = Facts.from_url(fact["url"], **common)
        else:
            facts = Facts(host=fact["host"], path=fact["path"], query=fact["query"], **common)
        data = asdict(decide(facts, policy))
    except ValueError as exc:
        return {"error": type(exc).__name__}
    data["clauses"] = list(data["clauses"])
    data["may_apply"] = list(data["may_apply"])
    return data


def run_js(node: str, bundle: dict[str, Any], facts: list[dict[str, Any]], tmp: Path) -> Any:
    src, out = tmp / "facts.json", tmp / "decisions.json"
    src.write_text(json.dumps({"bundle": bundle, "facts": facts}), encoding="utf-8")
    subprocess.run([node, str(HERE / "decide_batch.mjs"), str(src), str(out)], check=True)
    return json.loads(out.read_text(encoding="utf-8"))


def assert_same(facts: list[dict[str, Any]], py: list[dict[str, Any]], js: list[Any]) -> None:
    assert len(js) == len(py)
    differences = []
    for fact, p, j in zip(facts, py, js, strict=True):
        if "error" in p or "error" in j:
            if ("error" in p) != ("error" in j):
                differences.append((fact, p, j))
            continue
        if p != j:
            differences.append((fact, {k: (p[k], j.get(k)) for k in p if p[k] != j.get(k)}))
    assert not differences, f"{len(differences)} differ, first ones: {differences[:3]}"


@pytest.fixture(scope="module")
def bundle(config_bundle: dict[str, Any]) -> dict[str, Any]:
    return {
        **config_bundle,
        "accounts": VECTORS["accounts"],
        "device_groups": [*VECTORS["device_groups"], *config_bundle["device_groups"]],
    }


def test_every_vector_gives_the_same_decision_in_python_and_javascript(
    bundle: dict[str, Any], node: str, tmp_path: Path
) -> None:
    policy = Policy.from_bundle(bundle)
    facts = [c["facts"] for c in VECTORS["cases"]]
    result = run_js(node, bundle, facts, tmp_path)
    assert_same(facts, [python_decision(f, policy) for f in facts], result["decisions"])


def test_ten_thousand_random_facts_give_the_same_decision_in_python_and_javascript(
    bundle: dict[str, Any], node: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)  # noqa: S311 (reproducible test data, not secrets)
    catalogue = [d for p in bundle["platforms"] for d in (*p["domains"], *p.get("hosts", ()))]
    corpus = corpus_hosts()  # empty on a checkout without ../shared/corpora: catalogue only then
    assert len(corpus) > 500 or not CORPORA.is_dir(), f"too few hosts read from {CORPORA}"
    hosts = corpus + catalogue + NON_SOCIAL
    facts = [random_fact(rng, hosts, VECTORS["cases"]) for _ in range(RANDOM_FACTS)]
    facts += long_body_facts() + tricky_url_facts()
    policy = Policy.from_bundle(bundle)
    py = [python_decision(f, policy) for f in facts]
    result = run_js(node, bundle, facts, tmp_path)
    assert_same(facts, py, result["decisions"])
    # The generated set must exercise the rules, not only "not social media".
    assert len({d["rule"] for d in py if "rule" in d}) >= len(bundle["rules"])
    assert sum(1 for d in py if d.get("platform")) > RANDOM_FACTS // 3


ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
]


def test_working_time_and_school_days_agree_across_clock_changes_in_any_time_zone(
    bundle: dict[str, Any], node: str, tmp_path: Path
) -> None:
    # Hours that start and end near the changes (and local midnight), in zones with 30- and
    # 45-minute offsets; an account approved from one local day to another.
    rng = random.Random(SEED + 1)  # noqa: S311 (reproducible test data, not secrets)
    hours = [["00:00", "01:30"], ["01:59", "03:01"], ["07:00", "08:00"], ["23:00", "23:59"]]
    for zone in ZONES:
        variant = {
            **bundle,
            "schedule": {
                **bundle["schedule"],
                "time_zone": zone,
                "working_hours": {day: hours for day in bundle["schedule"]["working_hours"]},
            },
            "accounts": [
                {**VECTORS["accounts"][0], "approved_on": "2026-03-29", "expires_on": "2026-10-04"}
            ],
        }
        policy = Policy.from_bundle(variant)
        zone_facts = []
        for _ in range(800):
            # Within six hours of the 2026 clock changes of these zones, and local midnights.
            centre = rng.choice(
                [
                    datetime(2026, 3, 8, 7, tzinfo=UTC),
                    datetime(2026, 3, 29, 1, tzinfo=UTC),
                    datetime(2026, 4, 4, 15, tzinfo=UTC),
                    datetime(2026, 9, 26, 14, tzinfo=UTC),
                    datetime(2026, 10, 3, 16, tzinfo=UTC),
                    datetime(2026, 10, 25, 1, tzinfo=UTC),
                    datetime(2026, 11, 1, 6, tzinfo=UTC),
                    datetime(2026, 3, 28, 13, tzinfo=UTC),
                    datetime(2026, 10, 4, 13, tzinfo=UTC),
                ]
            )
            at = centre + timedelta(seconds=rng.randrange(-6 * 3600, 6 * 3600))
            zone_facts.append(
                {
                    "url": "https://www.facebook.com/",
                    "method": "GET",
                    "headers": {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document"},
                    "cookies": {"c_user": "100000000000777", "i_user": "100000000000001"},
                    "body": None,
                    "at": at.astimezone(timezone(rng.choice(OFFSETS))).isoformat(),
                    "client": None,
                    "device_group": None,
                }
            )
        js = run_js(node, variant, zone_facts, tmp_path)["decisions"]
        py = [python_decision(f, policy) for f in zone_facts]
        assert_same(zone_facts, py, js)
        assert {d["working_time"] for d in py} == {True, False}, zone
        assert {d["account"] for d in py} == {"school", "personal"}, zone


def test_catalogue_domains_are_registrable_so_both_host_walks_agree(
    bundle: dict[str, Any],
) -> None:
    # JS walks every parent name; Python stops at the registrable domain. They agree only while
    # no catalogue domain is a public suffix (or under an unknown one).
    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    bad = []
    for d in (d for p in bundle["platforms"] for d in p["domains"]):
        registrable = extract(d).top_domain_under_public_suffix
        # d has a registrable domain at or above it, and so do the names under d.
        if not registrable or not d.endswith(registrable):
            bad.append(d)
        elif extract(f"cw-probe.{d}").top_domain_under_public_suffix != registrable:
            bad.append(d)
    assert bad == []


def test_brand_tlds_are_whole_public_suffixes_so_the_last_label_is_the_suffix(
    bundle: dict[str, Any],
) -> None:
    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    for tld in (t for p in bundle["platforms"] for t in p.get("tlds", ())):
        assert re.fullmatch(r"[a-z0-9-]+", tld), tld
        assert extract(f"a.b.{tld}").suffix == tld
        assert extract(f"a.co.{tld}").suffix == tld
