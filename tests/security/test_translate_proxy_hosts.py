"""Attacks that try to take a social media host around the proxy by its name: Google Translate's
web proxy (`www-facebook-com.translate.goog` serves www.facebook.com) and a trailing dot
(`www.facebook.com.`). Each is tried against the real PAC file (run by node, as a browser runs
it), mitmproxy's allow_hosts pattern (compiled as mitmproxy compiles it) and the decision."""

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policy import Facts, decide
from policy.configdir import load_policy
from proxy_addon.intercept import allow_hosts_pattern
from proxy_addon.pac_server import pac_text

PROXY = "PROXY proxy.school.lan:3128"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
NAV = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
PAC_CHECK = """
const fs = require("fs");
eval(fs.readFileSync(process.argv[2], "utf8"));
const hosts = JSON.parse(process.argv[3]);
console.log(JSON.stringify(hosts.map((h) => FindProxyForURL("https://" + h + "/", h))));
"""


def pac_answers(tmp_path: Path, hosts: list[str]) -> list[str]:
    policy = load_policy()
    pac = tmp_path / "proxy.pac"
    pac.write_text(pac_text(policy.bundle, "proxy.school.lan:3128"), encoding="utf-8")
    script = tmp_path / "check.js"
    script.write_text(PAC_CHECK, encoding="utf-8")
    out = subprocess.run(
        ["node", str(script), str(pac), json.dumps(hosts)],
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(out.stdout))


def decrypted(host: str) -> bool:
    pattern = re.compile(allow_hosts_pattern(load_policy().bundle), re.IGNORECASE)
    return pattern.search(f"{host}:443") is not None


def outcome(host: str) -> tuple[str | None, str]:
    facts = Facts.from_url(f"https://{host}/", headers=NAV, at=NOW, client="10.0.0.5")
    decision = decide(facts, load_policy())
    return decision.platform, decision.outcome


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the PAC file")
def test_facebook_through_google_translates_proxy_is_sent_to_the_proxy(tmp_path: Path) -> None:
    hosts = [
        "www-facebook-com.translate.goog",
        "WWW-FACEBOOK-COM.translate.goog",
        "m-facebook-com.translate.goog",
        "www-linkedin-com.translate.goog",
        "www-bbc-co-uk.translate.goog",
        "www-notfacebook-com.translate.goog",
    ]
    assert pac_answers(tmp_path, hosts) == [PROXY] * 4 + ["DIRECT"] * 2


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the PAC file")
def test_a_trailing_dot_does_not_take_facebook_around_the_pac_file(tmp_path: Path) -> None:
    hosts = ["www.facebook.com.", "WWW.FACEBOOK.COM..", "www-facebook-com.translate.goog."]
    assert pac_answers(tmp_path, hosts) == [PROXY] * 3


def test_facebook_through_google_translates_proxy_is_decrypted_and_decided_as_facebook() -> None:
    for host in ("www-facebook-com.translate.goog", "www-linkedin-com.translate.goog"):
        assert decrypted(host), host
    assert outcome("www-facebook-com.translate.goog") == ("facebook", "warn")
    assert outcome("www-facebook-com.translate.goog.") == ("facebook", "warn")


def test_other_sites_through_google_translates_proxy_stay_opaque_and_unrecorded() -> None:
    for host in (
        "www-bbc-co-uk.translate.goog",
        "www-notfacebook-com.translate.goog",
        "a--facebook-com.translate.goog",  # a-facebook.com, not Facebook
        "translate.goog",
    ):
        assert not decrypted(host), host
        assert outcome(host) == (None, "allow"), host
