"""The clause coverage map (issue 17 §3): every clause of policy.yaml has an entry, made from the
school's own configuration; a clause with none is named; the school's lines why are checked."""

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from policy.bundle import compile_bundle
from policy.configdir import DEFAULT_CONFIG_DIR, load_config_dir
from policy.coverage import clause_map, gaps
from policy.errors import ConfigError
from service.dpia import dpia_markdown


@pytest.fixture
def config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    return folder


def clausewarden(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clausewarden", *args], capture_output=True, text=True, check=False
    )


def test_every_clause_of_policy_yaml_has_an_entry_on_the_map() -> None:
    config = load_config_dir()
    entries = clause_map(compile_bundle(config), config.rules.not_judged)
    in_policy = [
        c["id"] for c in yaml.safe_load((DEFAULT_CONFIG_DIR / "policy.yaml").read_text())["clauses"]
    ]
    assert len(in_policy) == 74
    assert [e.id for e in entries] == [str(c) for c in in_policy]
    assert gaps(entries) == []


def test_the_map_says_what_each_kind_of_clause_gets() -> None:
    config = load_config_dir()
    entries = {e.id: e for e in clause_map(compile_bundle(config), config.rules.not_judged)}
    reference = entries["6.2"]
    assert [(u.rule, u.outcome) for u in reference.rules] == [("reference", "block")]
    assert reference.reported and reference.not_judged is None
    contact = entries["8.1"]
    assert "school-account-contact" in [u.rule for u in contact.rules]
    assert any("Tell the Headteacher" in r.name for r in contact.routes)
    assert "content" in (entries["11.3.1.2"].not_judged or "")  # content of posts
    assert "in sight of children" in (entries["8"].not_judged or "").replace("Phones", "phones")
    assert entries["9"].heading_only and not entries["9"].not_judged
    assert [r.where for r in entries["10.1"].routes][0].startswith("/accounts")


def test_the_map_follows_the_schools_own_rules_and_settings(config: Path) -> None:
    rules = config / "rules.yaml"
    rules.write_text(
        rules.read_text().replace(
            "    match: {actions: [reference]}\n    outcome: block",
            "    match: {actions: [reference]}\n    outcome: warn",
        )
    )
    settings = config / "settings.yaml"
    settings.write_text(
        settings.read_text().replace(
            "personal_use_outside_working_time: warn", "personal_use_outside_working_time: log"
        )
    )
    school = load_config_dir(config)
    entries = {e.id: e for e in clause_map(compile_bundle(school), school.rules.not_judged)}
    assert [u.outcome for u in entries["6.2"].rules] == ["warn"]
    seven = {u.rule: u.outcome for u in entries["7"].rules}
    assert seven["post-working-time"] == "warn"
    assert seven["post-outside-working-time"] == "log"  # the headteacher's setting, in force


def test_a_clause_with_no_entry_is_named_by_clauses_and_config_validate(config: Path) -> None:
    rules = config / "rules.yaml"
    text = rules.read_text()
    start = text.index('  - clauses: ["8.3"]\n')
    end = text.index("  - clauses:", start + 10)
    rules.write_text(text[:start] + text[end:])
    result = clausewarden("clauses", "--config", str(config))
    assert result.returncode == 1
    assert "no entry for clause 8.3:" in result.stderr and "not_judged" in result.stderr
    assert "8.3\n    NO ENTRY" in result.stdout
    result = clausewarden("config", "validate", str(config))
    assert result.returncode == 1
    assert "clause 8.3 of policy.yaml has no entry on the clause coverage map" in result.stderr


def test_a_not_judged_clause_the_policy_lacks_is_refused_with_file_and_line(config: Path) -> None:
    rules = config / "rules.yaml"
    text = rules.read_text()
    line = text[: text.index('  - clauses: ["8.3"]')].count("\n") + 1
    rules.write_text(text.replace('  - clauses: ["8.3"]', '  - clauses: ["8.9"]'))
    with pytest.raises(ConfigError) as caught:
        load_config_dir(config)
    [problem] = caught.value.problems
    assert problem.file.endswith("rules.yaml") and problem.line == line
    assert problem.field == "not_judged[9].clauses[0]"
    assert "clause 8.9 is not in policy.yaml" in problem.message


def test_a_clause_listed_twice_or_a_why_of_two_lines_is_refused(config: Path) -> None:
    rules = config / "rules.yaml"
    text = rules.read_text()
    rules.write_text(text.replace('  - clauses: ["8.3"]', '  - clauses: ["8.2"]'))
    with pytest.raises(ConfigError) as caught:
        load_config_dir(config)
    assert "clause 8.2 is listed twice under not_judged" in caught.value.problems[0].message
    rules.write_text(
        text.replace("    why: Email to pupils", '    why: "Two\\nlines: email to pupils').replace(
            "its content is not read.", 'its content is not read."'
        )
    )
    with pytest.raises(ConfigError) as caught:
        load_config_dir(config)
    assert caught.value.problems[0].field.endswith(".why")


def test_the_dpia_draft_carries_the_map_of_every_clause() -> None:
    config = load_config_dir()
    text = dpia_markdown(config, config.settings.settings, date(2026, 11, 25))
    section = text.split("## 8. Which clauses of the policy the software acts on", 1)[1]
    section = section.split("## 9. Sign-off", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 74  # the header and every clause
    assert "| 6.2 | rule reference:" in section
    assert "| 8 | not judged by the software: Phones and cameras" in section
