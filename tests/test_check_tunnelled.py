"""`clausewarden check --client` for a device the proxy does not decrypt (visitors, staff's own
devices) says what it really gets: over https no page, a `seen` record for a page host and none
for a CDN; over plain http the warning; a connectivity check the captive-portal notice. (It used
to claim the warning page for every such device.)"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.captive import groups_config

AT = "2026-11-25T10:00:00Z"
VISITOR, OWN_PHONE = "10.30.0.5", "10.20.0.5"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("check")
    return groups_config(folder / "c", visitors=["10.30.0.0/16"], staff_wifi=["10.20.0.0/16"])


def check(config: Path, client: str, url: str, *more: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "clausewarden", "check", url, "--client", client, "--at", AT,
         "--config", str(config), *more],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_visitors_https_page_host_is_a_seen_record_and_no_page(config: Path) -> None:
    out = check(config, VISITOR, "https://www.facebook.com/")
    assert "no page: device group visitors is not decrypted" in out
    assert "recorded as 'seen' (at most once per device, platform and 15 minutes)" in out
    assert "warning page" not in out and "clause 3.2" in out
    decision = json.loads(check(config, VISITOR, "https://www.facebook.com/", "--json"))
    assert (decision["action"], decision["outcome"], decision["clauses"]) == (
        "seen",
        "log",
        ["3.2", "7"],
    )


def test_an_own_devices_https_is_seen_under_clause_4_2(config: Path) -> None:
    decision = json.loads(check(config, OWN_PHONE, "https://www.linkedin.com/feed/", "--json"))
    assert decision["rule"] == "own-device-seen" and decision["clauses"] == ["4.2", "7"]


def test_a_cdn_host_is_neither_shown_nor_recorded(config: Path) -> None:
    out = check(config, VISITOR, "https://static.xx.fbcdn.net/rsrc.php/x.js")
    assert "tunnelled unopened; not recorded" in out


def test_plain_http_still_gets_the_warning_and_a_probe_the_captive_notice(config: Path) -> None:
    assert "the warning page at once" in check(config, VISITOR, "http://www.facebook.com/")
    out = check(config, OWN_PHONE, "http://connectivitycheck.gstatic.com/generate_204")
    assert "captive portal: this is Android and ChromeOS's connectivity check" in out
    assert "notice quoting clauses 3.2, 4.2, 7" in out


def test_a_school_device_still_gets_the_warning_page(config: Path) -> None:
    out = check(config, "192.168.1.5", "https://www.facebook.com/")
    assert "the warning page at once" in out and "captive" not in out
