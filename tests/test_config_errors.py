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
    assert problem.field == "rules[1].clause"
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
    assert problem.field == "rules[1].outcome"
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
    assert (problem.field, problem.line) == ("rules[3].clauses[0]", line)
    assert "quote it" in problem.message


def test_rule_citing_a_clause_the_policy_lacks_is_refused(config: Path) -> None:
    line = break_file(config, "rules.yaml", 'clauses: ["6.2"]', 'clauses: ["6.9"]')
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("rules[1].clauses[0]", line)
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
    assert (problem.field, problem.line) == ("rules[1].match.platforms[0]", line)
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
    assert (problem.field, problem.line) == ("rules[1].id", line)
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


def test_school_account_approved_for_references_is_refused_naming_clause_6_2(
    config: Path,
) -> None:
    # Clause 10.3: school use is subject to the rest of the policy; 6.2 says "never".
    line = break_file(
        config,
        "accounts.yaml",
        "accounts: []",
        "accounts:\n  - id: school-x\n    platform: x\n    account_id: 12\n    label: X\n"
        "    approved_by: Miss Newman\n    approved_on: 2026-09-01\n"
        "    actions: [browse, reference]",
    )
    problem = the_problem(config)
    assert problem.file.endswith("accounts.yaml")
    assert (problem.field, problem.line) == ("accounts[0].actions[1]", line + 7)
    assert "'reference' cannot be approved" in problem.message
    assert "clause 6.2" in problem.message


def test_school_accounts_device_group_approved_for_references_is_refused(config: Path) -> None:
    line = break_file(
        config,
        "device_groups.yaml",
        "    networks: []\n    # Own devices",
        "    networks: []\n    school_accounts:\n      platforms: [linkedin]\n"
        "      actions: [browse, post, reference]\n      approved_by: Miss Newman\n"
        "      approved_on: 2026-09-01\n    # Own devices",
    )
    problem = the_problem(config)
    assert problem.file.endswith("device_groups.yaml")
    assert problem.field == "device_groups[1].school_accounts.actions[2]"
    assert problem.line == line + 3
    assert "clause 6.2" in problem.message


def test_a_school_that_relaxes_references_to_warn_may_approve_them(config: Path) -> None:
    # The refusal follows the school's own rules: only a block whatever the account is "never".
    break_file(
        config,
        "rules.yaml",
        "    match: {actions: [reference]}\n    outcome: block",
        "    match: {actions: [reference]}\n    outcome: warn",
    )
    break_file(
        config,
        "accounts.yaml",
        "accounts: []",
        "accounts:\n  - id: school-x\n    platform: x\n    account_id: 12\n    label: X\n"
        "    approved_by: Miss Newman\n    approved_on: 2026-09-01\n"
        "    actions: [browse, reference]",
    )
    assert load_config_dir(config).accounts.accounts[0].actions == ["browse", "reference"]


def test_a_school_account_rule_above_the_reference_rule_is_refused(config: Path) -> None:
    # The order before issue 17: an approval could then allow what clause 6.2 says never.
    path = config / "rules.yaml"
    text = path.read_text()
    start = text.index("  - id: school-account\n")
    end = text.index("  - id: message-working-time\n")
    school = text[start:end]
    moved = text[:start] + text[end:]
    top = moved.index("  - id: reference\n")
    path.write_text(moved[:top] + school + moved[top:])
    line = (moved[:top]).count("\n") + 1
    problem = the_problem(config)
    assert (problem.field, problem.line) == ("rules[1].id", line)
    assert (
        "rule school-account lets school accounts through before rule reference" in problem.message
    )
    assert "clause 6.2" in problem.message and "move rule school-account below" in problem.message


RECIPIENTS = "  report_recipients: []\n"


def test_a_press_enquiry_routed_to_a_line_manager_is_refused_naming_clause_10_2(
    config: Path,
) -> None:
    line = break_file(
        config,
        "settings.yaml",
        RECIPIENTS,
        "  report_recipients:\n"
        "    - {id: lm-ks1, role: line_manager, label: Mr Lee, receives: [misuse, press]}\n",
    )
    problem = the_problem(config)
    assert problem.file.endswith("settings.yaml") and problem.line == line + 1
    assert problem.field == "settings.report_recipients[0].receives[1]"
    assert "clause 10.2 sends it to the Headteacher" in problem.message


def test_a_recipient_with_an_unknown_role_or_a_bad_address_is_named_with_its_line(
    config: Path,
) -> None:
    line = break_file(
        config,
        "settings.yaml",
        RECIPIENTS,
        "  report_recipients:\n"
        "    - id: lm-ks1\n"
        "      role: deputy\n"
        "      label: Mr Lee\n"
        "      email: [not-an-address]\n",
    )
    found = {(p.field, p.line): p.message for p in problems_of(config)}
    assert "'deputy' is not allowed" in found[("settings.report_recipients[0].role", line + 2)]
    assert ("settings.report_recipients[0].email[0]", line + 4) in found


def test_a_recipient_taking_the_headteachers_id_or_a_used_id_is_refused(config: Path) -> None:
    line = break_file(
        config,
        "settings.yaml",
        RECIPIENTS,
        "  report_recipients:\n"
        "    - {id: headteacher, role: senior_team, label: SLT}\n"
        "    - {id: slt, role: senior_team, label: SLT}\n"
        "    - {id: slt, role: line_manager, label: Mr Lee}\n",
    )
    found = {(p.field, p.line): p.message for p in problems_of(config)}
    assert "the Headteacher's own id" in found[("settings.report_recipients[0].id", line + 1)]
    assert "used twice" in found[("settings.report_recipients[2].id", line + 3)]


def test_an_endpoint_claiming_another_platforms_host_cannot_match_on_a_body(config: Path) -> None:
    line = break_file(
        config,
        "platforms.yaml",
        "        hosts: [i.instagram.com]\n",
        "        hosts: [i.instagram.com]\n        body: 'text_post'\n",
    )
    problem = the_problem(config)
    assert problem.field is not None and problem.field.endswith(".hosts[0]")
    assert problem.line == line
    assert "'i.instagram.com' is another platform's host" in problem.message


REPORT_CONTACT_ACTS = (
    "      acts: {browse: continue, post: tell, message: tell, connect: tell}\n      tell: contact"
)


def test_a_reason_resting_on_8_1_that_would_send_a_message_is_refused_at_its_line(
    config: Path,
) -> None:
    line = break_file(
        config,
        "settings.yaml",
        REPORT_CONTACT_ACTS,
        "      acts: {browse: continue, post: tell, message: continue, connect: tell}\n"
        "      tell: contact",
    )
    problem = the_problem(config)
    assert problem.file.endswith("settings.yaml") and problem.line == line
    assert problem.field == "settings.continue_reasons[2].acts.message"
    assert "clause 8.1" in problem.message and "You must not enter into any correspondence" in (
        problem.message
    )
    assert "`message: tell`" in problem.message


def test_a_reason_that_would_send_a_reference_is_refused_under_6_2(config: Path) -> None:
    old = "      label: Other school business\n      acts: {browse: continue, "
    line = break_file(config, "settings.yaml", old, old + "reference: continue, ") + 1
    problem = the_problem(config)
    assert (problem.line, problem.field) == (line, "settings.continue_reasons[5].acts.reference")
    assert "clause 6.2" in problem.message and "never provide references" in problem.message


def test_a_reason_that_opens_the_tell_form_must_say_what_about(config: Path) -> None:
    line = break_file(
        config,
        "settings.yaml",
        REPORT_CONTACT_ACTS,
        REPORT_CONTACT_ACTS.replace("contact", "gossip"),
    )
    problem = the_problem(config)
    assert problem.field == "settings.continue_reasons[2]" and line - 3 <= problem.line <= line
    assert "'gossip' is not one of contact, safeguarding" in problem.message


def test_a_reason_resting_on_a_clause_the_policy_lacks_is_refused(config: Path) -> None:
    line = break_file(config, "settings.yaml", '      clause: "8.4"', '      clause: "8.9"')
    problem = the_problem(config)
    assert (problem.line, problem.field) == (line, "settings.continue_reasons[3].clause")
    assert "clause 8.9 is not in policy.yaml" in problem.message


def test_a_reason_naming_no_kinds_is_offered_on_page_views_only(config: Path) -> None:
    break_file(config, "settings.yaml", "      acts: {browse: continue}\n", "")
    reasons = load_config_dir(config).settings.settings.continue_reasons
    assert reasons[0].id == "teaching-resource" and reasons[0].acts == {"browse": "continue"}
