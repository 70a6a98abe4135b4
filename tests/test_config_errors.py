"""A broken configuration is refused with a message naming the file, the line and the field."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policy.configdir import DEFAULT_CONFIG_DIR, load_config_dir
from policy.errors import ConfigError, Problem


@pytest.fixture
def config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    return folder


def break_file(folder: Path, name: str, old: str, new: str) -> int:
    """Replace `old` with `new` in one file; return the 1-based line where `new` starts."""
    path = folder / name
    text = path.read_text()
    assert old in text, f"{old!r} is not in {name}"
    start = text.index(old)
    path.write_text(text.replace(old, new, 1))
    return text[:start].count("\n") + 1


def problems_of(folder: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load_config_dir(folder)
    return caught.value.problems


def the_problem(folder: Path) -> Problem:
    problems = problems_of(folder)
    assert len(problems) == 1, problems
    return problems[0]


def test_shipped_configuration_is_valid() -> None:
    config = load_config_dir()
    assert len(config.platforms.platforms) >= 25


def test_yaml_syntax_error_names_the_line(config: Path) -> None:
    line = break_file(config, "rules.yaml", "    outcome: warn\n", "    outcome: [warn\n")
    problem = the_problem(config)
    assert problem.file.endswith("rules.yaml")
    assert line <= problem.line <= line + 2
    assert "not valid YAML" in problem.message


def test_misspelt_field_is_named_with_its_line(config: Path) -> None:
    line = break_file(
        config, "rules.yaml", '    clauses: ["6.2"]', '    clauses: ["6.2"]\n    clause: x'
    )
    problem = the_problem(config)
    assert (problem.file.endswith("rules.yaml"), problem.line) == (True, line + 1)
    assert problem.field == "rules[2].clause"
    assert "unknown field" in problem.message


def test_unknown_outcome_names_allowed_values(config: Path) -> None:
    line = break_file(
        config,
        "rules.yaml",
        '    outcome: block\n    clauses: ["6.2"]',
        '    outcome: blocked\n    clauses: ["6.2"]',
    )
    problem = the_problem(config)
    assert problem.line == line
    assert problem.field == "rules[2].outcome"
    assert "'blocked' is not allowed" in problem.message and "'block'" in problem.message


def test_missing_required_field_is_named(config: Path) -> None:
    line = break_file(config, "settings.yaml", "  continue_reasons:\n", "  unused_reasons:\n")
    problems = problems_of(config)
    assert any(p.field == "settings.continue_reasons" and "missing" in p.message for p in problems)
    assert any(p.field == "settings.unused_reasons" and p.line == line for p in problems)


def test_wrong_type_names_field_and_line(config: Path) -> None:
    line = break_file(config, "settings.yaml", "k_anonymity: 3", "k_anonymity: three")
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("settings.k_anonymity", line)
    assert "integer" in problem.message


def test_unquoted_clause_id_read_as_a_number_is_explained(config: Path) -> None:
    line = break_file(config, "rules.yaml", 'clauses: ["10.1"]', "clauses: [10.1]")
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("rules[1].clauses[0]", line)
    assert "quote it" in problem.message


def test_rule_citing_a_clause_the_policy_lacks_is_refused(config: Path) -> None:
    line = break_file(config, "rules.yaml", 'clauses: ["6.2"]', 'clauses: ["6.9"]')
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("rules[2].clauses[0]", line)
    assert "clause 6.9 is not in policy.yaml" in problem.message


def _rule_index(folder: Path, rule_id: str) -> int:
    ids = [
        line.split("id:", 1)[1].strip()
        for line in (folder / "rules.yaml").read_text().splitlines()
        if line.startswith("  - id:")
    ]
    return ids.index(rule_id)


def test_a_may_apply_clause_that_is_not_one_of_the_rules_clauses_is_refused(config: Path) -> None:
    line = break_file(
        config,
        "rules.yaml",
        '    clauses: ["8.1", "7"]\n    may_apply: ["8.1"]',
        '    clauses: ["8.1", "7"]\n    may_apply: ["8.2"]',
    )
    problem = the_problem(config)
    i = _rule_index(config, "message-working-time")
    assert problem.file.endswith("rules.yaml")
    assert (problem.field, problem.line) == (f"rules[{i}].may_apply[0]", line + 1)
    assert "clause 8.2 is not one of this rule's clauses" in problem.message


def test_a_rule_with_clauses_that_may_apply_must_say_on_what_condition(config: Path) -> None:
    line = break_file(
        config,
        "rules.yaml",
        "    may_apply_if: this person is a pupil, a parent or a carer\n",
        "",
    )
    problem = the_problem(config)
    i = _rule_index(config, "message-working-time")
    assert problem.file.endswith("rules.yaml") and problem.field == f"rules[{i}]"
    assert problem.line < line  # the rule's own line, above where the condition was
    assert "may_apply needs may_apply_if" in problem.message


def test_a_condition_without_clauses_that_may_apply_is_refused(config: Path) -> None:
    break_file(config, "rules.yaml", '    may_apply: ["8.1"]\n', "")
    problem = the_problem(config)
    i = _rule_index(config, "message-working-time")
    assert problem.file.endswith("rules.yaml") and problem.field == f"rules[{i}]"
    assert "may_apply_if without may_apply" in problem.message


def test_rule_naming_an_unknown_platform_is_refused(config: Path) -> None:
    line = break_file(
        config,
        "rules.yaml",
        "match: {actions: [reference]}",
        "match: {actions: [reference], platforms: [myspace]}",
    )
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("rules[2].match.platforms[0]", line)
    assert "'myspace' is not a known platform" in problem.message


def test_duplicate_key_is_refused(config: Path) -> None:
    line = break_file(
        config, "settings.yaml", "  k_anonymity: 3\n", "  k_anonymity: 3\n  k_anonymity: 5\n"
    )
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("settings.k_anonymity", line + 1)
    assert "appears twice" in problem.message


def test_backwards_working_hours_are_refused(config: Path) -> None:
    line = break_file(config, "schedule.yaml", 'monday: ["08:00-12:00"', 'monday: ["12:00-08:00"')
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("working_hours.monday[0]", line)
    assert "start must be before the end" in problem.message


def test_unknown_time_zone_is_refused(config: Path) -> None:
    line = break_file(
        config, "schedule.yaml", "time_zone: Europe/London", "time_zone: Europe/Londn"
    )
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("time_zone", line)
    assert "unknown time zone 'Europe/Londn'" in problem.message


def test_term_ending_before_it_starts_is_refused(config: Path) -> None:
    line = break_file(
        config,
        "schedule.yaml",
        "start: 2026-09-02, end: 2026-12-18",
        "start: 2026-12-18, end: 2026-09-02",
    )
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("terms[3]", line)
    assert "before it starts" in problem.message


def test_bad_network_is_refused(config: Path) -> None:
    line = break_file(config, "device_groups.yaml", "10.0.0.0/8", "10.0.0.0/33")
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("device_groups[3].networks[2]", line)
    assert "10.0.0.0/33" in problem.message


def test_staff_group_must_be_a_device_group(config: Path) -> None:
    line = break_file(
        config, "device_groups.yaml", "staff_group: staff-devices", "staff_group: staff"
    )
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("staff_group", line)


def test_account_on_an_unknown_platform_is_refused(config: Path) -> None:
    line = break_file(
        config,
        "accounts.yaml",
        "accounts: []",
        "accounts:\n  - id: page\n    platform: myspace\n    account_id: 12\n    label: Page\n"
        "    approved_by: Miss Newman\n    approved_on: 2026-09-01\n    actions: [browse]",
    )
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("accounts[0].platform", line + 2)


def test_domain_listed_under_two_platforms_is_refused(config: Path) -> None:
    path = config / "platforms.yaml"
    text = path.read_text()
    line = text.count("\n") + 4
    path.write_text(
        text + "  - id: copycat\n    name: Copycat\n    category: forum\n"
        "    domains: [copycat-social.com, facebook.com]\n"
    )
    problem = the_problem(config)
    assert (problem.field, problem.line) == (
        "platforms[-1].domains[1]".replace("-1", str(len(load_config_dir().platforms.platforms))),
        line,
    )
    assert "'facebook.com' is already listed under platform 'facebook'" in problem.message


def test_named_group_regex_is_refused_for_portability(config: Path) -> None:
    line = break_file(config, "platforms.yaml", "pattern: '^(\\d+)$'", "pattern: '^(?P<id>\\d+)$'")
    problem = the_problem(config)
    assert problem.line == line and problem.field.endswith("pattern")
    assert "JavaScript" in problem.message


def test_duplicate_rule_id_is_refused(config: Path) -> None:
    line = break_file(config, "rules.yaml", "  - id: reference\n", "  - id: embedded-content\n")
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("rules[2].id", line)
    assert "used twice" in problem.message


def test_missing_file_is_named(config: Path) -> None:
    (config / "schedule.yaml").unlink()
    problem = the_problem(config)
    assert problem.file.endswith("schedule.yaml") and "missing" in problem.message


def test_every_problem_is_reported_at_once(config: Path) -> None:
    break_file(config, "settings.yaml", "k_anonymity: 3", "k_anonymity: three")
    break_file(config, "schedule.yaml", "time_zone: Europe/London", "time_zone: Mars/Olympus")
    assert len(problems_of(config)) == 2


def test_validate_command_exits_non_zero_and_prints_locations(config: Path) -> None:
    line = break_file(config, "settings.yaml", "privacy_level: daily", "privacy_level: weekly")
    result = subprocess.run(
        [sys.executable, "-m", "clausewarden", "config", "validate", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert f"settings.yaml:{line}: settings.privacy_level: 'weekly' is not allowed" in result.stderr


def test_validate_command_accepts_the_shipped_folder() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clausewarden", "config", "validate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
