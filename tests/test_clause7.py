"""Clause 7 by its words: personal use is "never permitted during working time or by means of our
computers, networks and other IT resources". On staff devices it is warned at any time (lunch,
evenings, weekends, holidays), the warning saying it is outside working time; the headteacher's
setting `personal_use_outside_working_time: log` relaxes outside working time to a record only.
Working time is recorded on every event. Python core and JavaScript twin alike."""

import dataclasses
import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from policy import Facts, Policy, decide
from policy.bundle import compile_bundle
from policy.config import SettingsFile
from policy.configdir import load_config_dir
from policy.decide import ANY_TIME

ROOT = Path(__file__).resolve().parents[1]
NAV = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
XHR = {"sec-fetch-mode": "cors", "sec-fetch-dest": "empty"}
OUTSIDE = {
    "lunch": "2026-11-25T12:30:00+00:00",
    "evening": "2026-11-25T19:30:00+00:00",
    "weekend": "2026-11-28T11:00:00+00:00",
    "holiday": "2026-12-30T10:00:00+00:00",
    "bank holiday": "2027-05-03T10:00:00+01:00",
}
WORKING = "2026-11-25T10:00:00+00:00"
REQUESTS = {
    "facebook": ("https://www.facebook.com/", "GET", NAV, None),
    "whatsapp web": ("https://web.whatsapp.com/", "GET", NAV, None),
    "a post on x": (
        "https://x.com/i/api/graphql/SiM_cAu83R0wnrpmKQQSEw/CreateTweet",
        "POST",
        XHR,
        "{}",
    ),
    "a message on linkedin": (
        "https://www.linkedin.com/voyager/api/voyagerMessagingDashMessengerMessages?action=createMessage",
        "POST",
        XHR,
        "{}",
    ),
}


def bundle_with(setting: str) -> dict[str, Any]:
    config = load_config_dir()
    settings = config.settings.settings.model_copy(
        update={"personal_use_outside_working_time": setting}
    )
    return compile_bundle(dataclasses.replace(config, settings=SettingsFile(settings=settings)))


def facts_list() -> list[dict[str, Any]]:
    out = []
    for at in [WORKING, *OUTSIDE.values()]:
        for url, method, headers, body in REQUESTS.values():
            out.append(
                {
                    "url": url,
                    "method": method,
                    "headers": headers,
                    "cookies": {},
                    "body": body,
                    "at": at,
                    "client": "10.0.0.5",
                    "device_group": None,
                }
            )
    return out


def python_decisions(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    policy = Policy.from_bundle(bundle)
    out = []
    for f in facts_list():
        facts = Facts.from_url(
            f["url"],
            method=f["method"],
            headers=f["headers"],
            body=f["body"].encode() if f["body"] is not None else None,
            at=datetime.fromisoformat(f["at"]),
            client=f["client"],
        )
        d = decide(facts, policy)
        out.append({**d.contract(), "record": d.record, "allow_continue": d.allow_continue})
    return out


def js_decisions(bundle: dict[str, Any], tmp: Path) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed for the JavaScript twin (scripts/setup installs it)")
    src, dst = tmp / "in.json", tmp / "out.json"
    src.write_text(json.dumps({"bundle": bundle, "facts": facts_list()}))
    subprocess.run(
        [node, str(ROOT / "tests" / "extension" / "decide_batch.mjs"), str(src), str(dst)],
        check=True,
    )
    fields = ("outcome", "rule", "clauses", "reason", "working_time", "record", "allow_continue")
    return [{k: d[k] for k in fields} for d in json.loads(dst.read_text())["decisions"]]


def same_in_both(bundle: dict[str, Any], tmp: Path) -> list[dict[str, Any]]:
    py = python_decisions(bundle)
    fields = ("outcome", "rule", "clauses", "reason", "working_time", "record", "allow_continue")
    assert js_decisions(bundle, tmp) == [{k: d[k] for k in fields} for d in py]
    return py


def by_time(decisions: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    n = len(REQUESTS)
    names = ["working", *OUTSIDE]
    return {name: decisions[i * n : (i + 1) * n] for i, name in enumerate(names)}


def test_staff_are_warned_at_lunch_evenings_weekends_and_holidays_by_default(
    tmp_path: Path,
) -> None:
    times = by_time(same_in_both(compile_bundle(load_config_dir()), tmp_path))
    for when in OUTSIDE:
        for d in times[when]:
            assert d["outcome"] == "warn", (when, d)
            assert d["working_time"] is False and d["record"] is True
            assert "7" in d["clauses"]
            assert "outside working time" in d["reason"] and ANY_TIME in d["reason"]
    for d in times["working"]:
        assert d["outcome"] == "warn" and d["working_time"] is True
        assert ANY_TIME not in d["reason"]


def test_the_headteachers_setting_makes_browsing_and_posting_outside_working_time_a_record_only(
    tmp_path: Path,
) -> None:
    times = by_time(same_in_both(bundle_with("log"), tmp_path))
    for when in OUTSIDE:
        browse, messaging_app, post, message = times[when]
        for d in (browse, messaging_app, post):
            assert (d["outcome"], d["record"], d["allow_continue"]) == ("log", True, False)
            assert d["working_time"] is False and ANY_TIME in d["reason"]
        # Messages stay warned at any time: clause 7, and 8.1 if the person is a pupil or parent.
        assert message["outcome"] == "warn" and message["may_apply"] == ["8.1"]
        assert message["clauses"] == ["7"]
    assert all(d["outcome"] == "warn" for d in times["working"])


def test_an_unknown_setting_is_refused_with_the_values_allowed() -> None:
    from policy.errors import ConfigError
    from policy.school import parse_config

    folder = ROOT / "config"
    texts = {p.name: p.read_text() for p in folder.glob("*.yaml")}
    texts["settings.yaml"] = texts["settings.yaml"].replace(
        "personal_use_outside_working_time: warn", "personal_use_outside_working_time: allow"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(texts)
    message = str(caught.value.problems[0])
    assert "personal_use_outside_working_time" in message and "'warn'" in message
