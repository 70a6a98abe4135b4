"""School accounts as schools run them (clause 10.1), in the pure core: `config validate` refuses
an account that could never be matched or whose kind is unsaid, naming file, line and field; the
school accounts device group is checked; the default expiry is the end of the school year."""

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from policy.config import DateRange
from policy.configdir import DEFAULT_CONFIG_DIR, load_config_dir
from policy.errors import ConfigError, Problem
from policy.school import default_expiry

ENTRY = """\
accounts:
  - id: school
    platform: {platform}
    account_id: "1000123"
    label: The school's account
    approved_by: Miss Newman
    approved_on: 2026-09-01
    actions: [browse, post]
{extra}"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    return folder


def accounts(folder: Path, platform: str, extra: str = "") -> None:
    (folder / "accounts.yaml").write_text(ENTRY.format(platform=platform, extra=extra))


def the_problem(folder: Path) -> Problem:
    with pytest.raises(ConfigError) as caught:
        load_config_dir(folder)
    [problem] = caught.value.problems
    return problem


@pytest.mark.parametrize(
    "platform",
    "linkedin youtube pinterest reddit bluesky mastodon discord snapchat blogger tumblr".split(),
)
def test_an_account_on_a_platform_whose_cookies_carry_no_id_is_refused(config, platform):
    accounts(config, platform)
    problem = the_problem(config)
    assert problem.file.endswith("config/accounts.yaml")
    assert (problem.line, problem.field) == (3, "accounts[0].platform")
    assert "cookies carry no account id, so an approved" in problem.message
    assert "school accounts device group (school_accounts in device_groups.yaml)" in (
        problem.message
    )


def test_config_validate_prints_file_line_and_field_of_an_unmatchable_account(config):
    accounts(config, "linkedin")
    result = subprocess.run(
        [sys.executable, "-m", "clausewarden", "config", "validate", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "accounts.yaml:3" in result.stderr + result.stdout
    assert "accounts[0].platform" in result.stderr + result.stdout


def test_a_facebook_account_must_say_page_or_profile(config):
    accounts(config, "facebook")
    problem = the_problem(config)
    assert problem.field == "accounts[0].kind" and problem.line == 2
    assert problem.message.startswith("say kind: page (a Page (matches only while someone acts")
    assert "or kind: profile (a person's own profile)" in problem.message
    accounts(config, "facebook", "    kind: account\n")
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("accounts[0].kind", 9)
    assert "Facebook has no 'account' accounts" in problem.message
    accounts(config, "facebook", "    kind: page\n")
    assert [a.kind for a in load_config_dir(config).accounts.accounts] == ["page"]


def test_an_account_with_its_own_login_needs_no_kind(config):
    accounts(config, "x")
    assert [a.kind for a in load_config_dir(config).accounts.accounts] == [None]


GROUP = """\
  - id: school-office
    label: School office PC
    networks: [192.168.10.20/32]
    school_accounts:
      platforms: [{platforms}]
      actions: [browse, post]
      approved_by: Miss Newman
      approved_on: 2026-09-01
      expires_on: 2027-08-31
"""


def add_group(folder: Path, platforms: str) -> int:
    path = folder / "device_groups.yaml"
    text = path.read_text()
    at = text.index("device_groups:\n") + len("device_groups:\n")
    path.write_text(text[:at] + GROUP.format(platforms=platforms) + text[at:])
    return text[:at].count("\n") + 5


def test_a_school_accounts_device_group_is_accepted_for_platforms_without_ids(config):
    add_group(config, "linkedin, youtube")
    [group] = [g for g in load_config_dir(config).device_groups.device_groups if g.school_accounts]
    assert group.school_accounts is not None
    assert group.school_accounts.platforms == ["linkedin", "youtube"]


def test_a_school_accounts_device_group_refuses_a_platform_whose_cookies_carry_the_id(config):
    line = add_group(config, "linkedin, facebook")
    problem = the_problem(config)
    assert (problem.field, problem.line) == (
        "device_groups[0].school_accounts.platforms[1]",
        line,
    )
    assert "Facebook's cookies carry the account id: approve the school's account itself" in (
        problem.message
    )


def test_a_school_accounts_device_group_refuses_an_unknown_platform(config):
    add_group(config, "myspace")
    problem = the_problem(config)
    assert problem.field == "device_groups[0].school_accounts.platforms[0]"
    assert "'myspace' is not in platforms.yaml" in problem.message


TERMS = [
    DateRange(name="Autumn", start=date(2026, 9, 2), end=date(2026, 12, 18)),
    DateRange(name="Summer", start=date(2027, 4, 12), end=date(2027, 7, 21)),
]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 25), date(2027, 8, 31)),
        (date(2027, 8, 31), date(2027, 8, 31)),
        (date(2027, 9, 1), date(2028, 8, 31)),
        (date(2027, 1, 4), date(2027, 8, 31)),
    ],
)
def test_the_default_expiry_is_the_end_of_the_school_year(today, expected):
    assert default_expiry(today, TERMS) == expected


def test_the_default_expiry_is_the_last_term_end_when_a_term_runs_past_31_august():
    terms = [DateRange(name="Southern", start=date(2027, 7, 1), end=date(2027, 9, 10))]
    assert default_expiry(date(2027, 3, 1), terms) == date(2027, 9, 10)


def test_what_an_approval_gives_each_act_is_read_from_the_rules_in_order() -> None:
    # Clause 10.3: the rules above the school-account rule bind an approved account too.
    from policy.approvals import act_limits

    limits = act_limits(load_config_dir().rules.rules)
    assert (limits["reference"].limit, limits["reference"].clauses) == ("never", ("6.2",))
    for act in ("message", "connect"):
        assert (limits[act].limit, limits[act].rule) == ("notice", "school-account-contact")
        assert limits[act].clauses == ("8.1", "10.3")
    for act in ("browse", "post"):
        assert (limits[act].limit, limits[act].rule) == ("allowed", "school-account")


def test_a_block_on_one_platform_only_does_not_make_an_act_unapprovable() -> None:
    # Blocking references on LinkedIn alone leaves other platforms to the rules below it.
    from policy.approvals import act_limit
    from policy.config import Rule, RuleMatch

    rules = [
        Rule(
            id="no-linkedin-references",
            description="x",
            match=RuleMatch(actions=["reference"], platforms=["linkedin"]),
            outcome="block",
            clauses=["6.2"],
        ),
        Rule(id="school", description="x", match=RuleMatch(accounts=["school"]), outcome="allow"),
    ]
    assert act_limit(rules, "reference").limit == "allowed"
