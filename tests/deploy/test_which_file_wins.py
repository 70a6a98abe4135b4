"""Which wins, the file or the page, said where an admin looks (issue 21): after the Settings page
saved term dates, a closure added to schedule.yaml is ignored even after a restart. The start
banner, `config validate` and the Settings page say which settings the pages replaced and since
when, and the page's button puts the file back in force. Also the checks a new admin makes on the
first day: the Sensors page shows a proxy's last event while k hides one laptop everywhere else,
and the banner names --data-dir when it was given. All on a real `clausewarden serve`."""

import json
import shutil
import urllib.request
from datetime import UTC, datetime

import pytest

from policy.configdir import DEFAULT_CONFIG_DIR
from tests.support.admin_pages import AdminSession
from tests.support.deploy import cli
from tests.support.events import an_event
from tests.support.service import Service

PASSWORD = "a-long-password"
TRAINING_DAY = "2026-11-25T10:30:00+00:00"  # a Wednesday in the Autumn term 2026, school hours
FILE_CLOSURE = "  - {name: Staff training day, start: 2026-11-25, end: 2026-11-25}\n"


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("which-file")
    config, data = tmp / "etc", tmp / "data"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    folders = ("--data-dir", str(data), "--config", str(config))
    cli("user", "add", "head", "--role", "headteacher", *folders,
        env={"CLAUSEWARDEN_PASSWORD": PASSWORD})  # fmt: skip
    service = Service(data, config=config, sensor="office", env={"CLAUSEWARDEN_DATA": str(data)})
    service.start()
    yield service, config, folders
    service.stop()


def working_time_on_training_day(folders: tuple[str, ...]) -> str:
    out = cli("check", "https://www.facebook.com/", "--at", TRAINING_DAY, "--json", *folders)
    return "yes" if json.loads(out.stdout)["working_time"] else "no"


def test_term_dates_saved_on_the_page_win_over_schedule_yaml_and_everyone_says_so(school):
    service, config, folders = school
    admin = AdminSession(service.url, "head", PASSWORD)
    page = admin.get("/settings")
    assert 'id="replaced-schedule-yaml"' not in page  # the file is in force
    terms = "Autumn term 2026, 2026-09-02, 2026-12-18\nSpring term 2027, 2027-01-05, 2027-03-26"
    admin.post("/settings/schedule", page, {"terms": terms, "closures": ""})

    # The admin adds a closure to schedule.yaml, valid, and restarts the service.
    schedule = config / "schedule.yaml"
    schedule.write_text(schedule.read_text().replace("closures:\n", "closures:\n" + FILE_CLOSURE))
    service.stop()
    service.start()
    assert working_time_on_training_day(folders) == "yes"  # the page's dates, not the file's

    banner = service.output().split("ClauseWarden service on")[-1]
    said = [line for line in banner.splitlines() if line.startswith("schedule.yaml:")]
    assert len(said) == 1, banner
    assert "term dates, closures are the Settings page's since 20" in said[0]
    assert "(by head)" in said[0] and "edits to them in schedule.yaml are ignored" in said[0]
    assert "clausewarden config use-file schedule.yaml" in said[0]

    validated = cli("config", "validate", *folders)
    assert said[0] in validated.stdout.splitlines()

    page = admin.get("/settings")
    assert "This page, not schedule.yaml, is in force for term dates, closures" in page
    assert "when head saved them here" in page and "Use schedule.yaml again" in page

    # Back to the file, by the page's button: the file's closure is in force at once.
    back = admin.post("/settings/use-file", page, {"file": "schedule.yaml"})
    assert "schedule.yaml&#39;s term dates and closures are in force again" in back
    assert 'id="replaced-schedule-yaml"' not in back
    assert working_time_on_training_day(folders) == "no"
    assert "schedule.yaml:" not in cli("config", "validate", *folders).stdout
    assert "settings.use_file" in admin.get("/audit")
    service.stop()
    service.start()
    assert "schedule.yaml:" not in service.output().split("ClauseWarden service on")[-1]


def test_an_admin_who_is_not_the_headteacher_cannot_put_settings_yaml_back(school):
    service, _config, folders = school
    head = AdminSession(service.url, "head", PASSWORD)
    page = head.get("/settings")
    head.post("/settings", page, {"privacy_level": "daily", "k_anonymity": "4",
                                  "retention_days": "180"})  # fmt: skip
    assert (
        "settings.yaml: privacy level, k, retention" in cli("config", "validate", *folders).stdout
    )
    out = cli("config", "use-file", "settings.yaml", *folders)
    assert "settings.yaml is in force again" in out.stdout
    assert "settings.yaml:" not in cli("config", "validate", *folders).stdout


def test_the_sensors_page_shows_a_proxys_last_event_that_k_hides_elsewhere(school):
    service, _config, _folders = school
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    at = now.replace(minute=now.minute - now.minute % 15).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = an_event(sensor="office", time=at).to_json()  # one laptop's one warning
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        f"{service.url}/api/v1/events",
        data=json.dumps({"events": [event]}).encode(),
        headers={"Authorization": f"Bearer {service.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1
        assert response.status == 202
    page = AdminSession(service.url, "head", PASSWORD).get("/sensors")
    row = page.split("<td>office</td>", 1)[1].split("</tr>", 1)[0]
    assert f"<td>{at}</td>" in row


def test_the_banner_says_data_dir_when_it_was_given_even_with_the_defaults_value(school):
    service, _config, _folders = school
    first = service.output().splitlines()[0]  # CLAUSEWARDEN_DATA names the same folder
    assert first.endswith(f"data folder: {service.data.resolve()} (--data-dir)"), first
