"""`clausewarden check` and `clausewarden bundle` as a school's IT admin runs them."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from policy.configdir import DEFAULT_CONFIG_DIR

DECISION_FIELDS = {
    "may_apply",
    "platform",
    "category",
    "action",
    "working_time",
    "device_group",
    "account",
    "outcome",
    "clauses",
    "reason",
    "rule",
}


def clausewarden(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clausewarden", *args], capture_output=True, text=True, check=False
    )


def test_check_json_prints_exactly_the_decision_fields_plus_rule() -> None:
    result = clausewarden(
        "check", "https://www.facebook.com/", "--at", "2026-11-25T10:00:00Z", "--json"
    )
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert set(decision) == DECISION_FIELDS
    assert decision["outcome"] == "warn" and decision["clauses"] == ["7"]
    assert decision["working_time"] is True and decision["device_group"] == "staff-devices"


def test_check_without_json_quotes_the_clause_text() -> None:
    result = clausewarden("check", "https://web.whatsapp.com/", "--at", "2026-11-25T10:00:00Z")
    assert result.returncode == 0, result.stderr
    assert "WARN" in result.stdout
    assert "clause 8.1" in result.stdout and "You must not contact any student" in result.stdout
    # Opening a messaging app is not known to involve a pupil or a parent: 8.1 only may apply.
    assert "(may apply: if you write to a pupil, a parent or a carer here)" in result.stdout
    assert "clause 7 Personal Use Of Social Media" in result.stdout


def test_check_with_headers_is_not_assumed_to_be_a_navigation() -> None:
    result = clausewarden(
        "check",
        "https://www.facebook.com/plugins/like.php",
        "--header",
        "Sec-Fetch-Dest: iframe",
        "--header",
        "Sec-Fetch-Mode: navigate",
        "--at",
        "2026-11-25T10:00:00Z",
        "--json",
    )
    assert json.loads(result.stdout)["action"] == "subresource"


def test_check_reads_cookies_client_and_body(tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_text("fb_api_req_friendly_name=FriendingCometFriendRequestSendMutation&x=1")
    result = clausewarden(
        "check",
        "https://www.facebook.com/api/graphql/",
        "--method",
        "POST",
        "--header",
        "Sec-Fetch-Mode: cors",
        "--cookie",
        "c_user=100012345",
        "--body-file",
        str(body),
        "--client",
        "192.168.4.7",
        "--at",
        "2026-11-25T19:00:00Z",
        "--json",
    )
    decision = json.loads(result.stdout)
    assert decision["action"] == "connect" and decision["account"] == "personal"
    assert decision["may_apply"] == ["11.4.3", "8.1"] and decision["clauses"] == ["7"]
    assert decision["working_time"] is False


def test_check_refuses_a_time_without_offset() -> None:
    result = clausewarden("check", "https://x.com/", "--at", "2026-11-25T10:00")
    assert result.returncode == 2
    assert "--at '2026-11-25T10:00': give the UTC offset" in result.stderr


def test_check_refuses_a_malformed_header() -> None:
    result = clausewarden("check", "https://x.com/", "--header", "no colon here")
    assert result.returncode == 2 and "expected 'Name: value'" in result.stderr


def test_bundle_is_written_atomically_with_a_content_version(tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    result = clausewarden("bundle", "--out", str(out))
    assert result.returncode == 0, result.stderr
    bundle = json.loads(out.read_text())
    assert len(bundle["version"]) == 16 and bundle["version"] in result.stderr
    assert {
        "clauses",
        "platforms",
        "schedule",
        "device_groups",
        "rules",
        "accounts",
        "settings",
    } <= set(bundle)
    assert not list(tmp_path.glob("*.tmp"))
    again = json.loads(clausewarden("bundle").stdout)
    assert again["version"] == bundle["version"]


def test_check_says_a_scripts_message_is_held_and_warned_on_the_next_page() -> None:
    result = clausewarden(
        "check",
        "https://www.linkedin.com/voyager/api/messaging/conversations?action=create",
        "--method",
        "POST",
        "--header",
        "Sec-Fetch-Mode: cors",
        "--at",
        "2026-11-25T10:00:00Z",
    )
    assert result.returncode == 0, result.stderr
    assert (
        "staff see: held; warning on the next page of LinkedIn (Continue offered); "
        "the page's request gets 403" in result.stdout
    )


def test_check_says_a_form_posted_message_gets_the_warning_page_at_once() -> None:
    result = clausewarden(
        "check", "https://mbasic.facebook.com/messages/send/", "--method", "POST",
        "--at", "2026-11-25T10:00:00Z",
    )  # fmt: skip
    assert "staff see: held; the warning page at once (Continue offered)" in result.stdout


def test_check_says_a_page_gets_the_warning_page_and_a_widget_nothing() -> None:
    page = clausewarden("check", "https://www.facebook.com/", "--at", "2026-11-25T10:00:00Z")
    assert "staff see: the warning page at once (Continue offered)" in page.stdout
    widget = clausewarden(
        "check", "https://www.facebook.com/plugins/like.php", "--header", "Sec-Fetch-Dest: iframe",
        "--at", "2026-11-25T10:00:00Z",
    )  # fmt: skip
    assert "staff see: nothing; it passes" in widget.stdout


SCHOOL_X = (
    "accounts:\n  - id: wycliffe-x\n    platform: x\n    account_id: '2000002'\n"
    "    label: Wycliffe on X\n    approved_by: Miss Newman\n    approved_on: 2026-09-01\n"
    "    actions: [browse, post, message, connect]\n"
)
OFFICE = (
    "    networks: [10.9.9.0/24]\n    school_accounts:\n      platforms: [linkedin]\n"
    "      actions: [browse, post, message, connect]\n      approved_by: Miss Newman\n"
    "      approved_on: 2026-09-01\n    # Own devices"
)


def school_config(tmp_path: Path, accounts: str = SCHOOL_X) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    (folder / "accounts.yaml").write_text(accounts)
    groups = folder / "device_groups.yaml"
    text = groups.read_text()
    # staff Wi-Fi becomes the school office: its devices stand for the school's LinkedIn
    text = text.replace("    networks: []\n    # Own devices", OFFICE, 1)
    # ... and the school manages them (its CA installed): decrypted, so an act is seen
    groups.write_text(text.replace("    decrypt_https: false\n", "    decrypt_https: true\n", 1))
    return folder


def act(folder: Path, url: str, *extra: str) -> dict[str, object]:
    result = clausewarden(
        "check",
        url,
        "--method",
        "POST",
        "--header",
        "Sec-Fetch-Mode: cors",
        "--header",
        "Sec-Fetch-Dest: empty",
        "--at",
        "2026-11-25T10:00:00Z",
        "--config",
        str(folder),
        "--json",
        *extra,
    )
    assert result.returncode == 0, result.stderr
    decision: dict[str, object] = json.loads(result.stdout)
    return decision


def test_check_gives_a_school_accounts_message_and_follow_the_8_1_notice_not_10_1(
    tmp_path: Path,
) -> None:
    # Issue 17 §2: before, the school-account rule came first and allowed these under 10.1.
    folder = school_config(tmp_path)
    body = tmp_path / "body.txt"
    body.write_text("{}")
    cookie = ("--cookie", "twid=u%3D2000002", "--body-file", str(body))
    message = act(folder, "https://x.com/i/api/1.1/dm/new2.json", *cookie)
    assert (message["account"], message["outcome"], message["clauses"]) == (
        "school",
        "warn",
        ["8.1", "10.3"],
    )
    body.write_text("user_id=1")
    follow = act(folder, "https://x.com/i/api/1.1/friendships/create.json", *cookie)
    assert (follow["account"], follow["outcome"], follow["clauses"]) == (
        "school",
        "warn",
        ["8.1", "10.3"],
    )
    assert "11.4.3" not in follow["clauses"]  # staff's personal contacts: not a school account's
    text = clausewarden(
        "check",
        "https://x.com/i/api/1.1/dm/new2.json",
        "--method",
        "POST",
        "--header",
        "Sec-Fetch-Mode: cors",
        *cookie[:2],
        "--at",
        "2026-11-25T10:00:00Z",
        "--config",
        str(folder),
    )
    assert "You must not contact any student" in text.stdout
    assert "subject to the remainder of this policy" in text.stdout


def test_check_refuses_a_school_accounts_recommendation_under_6_2(tmp_path: Path) -> None:
    folder = school_config(tmp_path)
    body = tmp_path / "body.txt"
    body.write_text("{}")
    office = ("--client", "10.9.9.5", "--body-file", str(body))
    post = act(folder, "https://www.linkedin.com/voyager/api/contentcreation/normShares", *office)
    assert (post["device_group"], post["account"]) == ("staff-wifi", "school")
    recommendation = act(
        folder, "https://www.linkedin.com/voyager/api/identity/recommendations", *office
    )
    assert (recommendation["outcome"], recommendation["clauses"]) == ("block", ["6.2"])


def test_check_refuses_an_accounts_yaml_approving_references_naming_file_line_and_clause(
    tmp_path: Path,
) -> None:
    folder = school_config(
        tmp_path, SCHOOL_X.replace("message, connect]", "message, connect, reference]")
    )
    result = clausewarden("check", "https://x.com/", "--config", str(folder))
    assert result.returncode == 2
    assert "accounts.yaml:8: accounts[0].actions[4]" in result.stderr
    assert "'reference' cannot be approved" in result.stderr and "clause 6.2" in result.stderr
