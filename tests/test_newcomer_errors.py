"""Mistakes a newcomer makes, each run as the real command: one clear line naming the fix, never
a traceback."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.net import free_port

ROOT = Path(__file__).resolve().parent.parent


def cw(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clausewarden", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "CLAUSEWARDEN_DATABASE": ""},
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The error line, asserting it is the only thing said and the command failed."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_an_impossible_date_in_schedule_yaml_is_named_by_file_line_and_field(tmp_path):
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    schedule = folder / "schedule.yaml"
    text = schedule.read_text()
    assert "end: 2026-12-18}" in text
    schedule.write_text(text.replace("end: 2026-12-18}", "end: 2026-13-18}"))
    line_no = next(
        i for i, line in enumerate(schedule.read_text().splitlines(), 1) if "2026-13-18" in line
    )
    result = cw("config", "validate", str(folder))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    problems = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert problems == [
        f"{schedule}:{line_no}: terms[3].end: '2026-13-18' is not a real date "
        "(month must be in 1..12); write YYYY-MM-DD"
    ]


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = cw("serve", "--port", str(port), "--data-dir", str(tmp_path / "data"))
    line = one_line(result)
    assert f"127.0.0.1:{port} is already in use" in line and "--port" in line


def test_the_proxy_on_a_port_in_use_names_its_own_option_not_mitmproxys(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = cw(
            "proxy", "--listen-port", str(port), "--data-dir", str(tmp_path / "proxy"),
            "--confdir", str(tmp_path / "mitmproxy"),
        )  # fmt: skip
    line = one_line(result)
    assert f"127.0.0.1:{port} is already in use" in line and "--listen-port" in line
    assert "--mode" not in result.stderr


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://root@localhost/school", "mysql:// is not a database ClauseWarden runs on"),
        ("sqlite://school.db", "a SQLite URL has three slashes"),
        ("school.db", "that is not a database ClauseWarden runs on"),
    ],
)
def test_a_database_url_clausewarden_cannot_use_is_one_line_with_the_forms_it_takes(
    tmp_path, url, said
):
    line = one_line(cw("serve", "--port", "0", "--data-dir", str(tmp_path), "--database", url))
    assert said in line
    assert "sqlite:///PATH/TO/FILE.db or postgresql://USER:PASSWORD@HOST:5432/DATABASE" in line


def test_a_postgresql_nobody_listens_for_is_one_line_without_the_password(tmp_path):
    closed = free_port()
    url = f"postgresql://school:s3cret-pw@127.0.0.1:{closed}/clausewarden"
    line = one_line(cw("serve", "--port", "0", "--data-dir", str(tmp_path), "--database", url))
    assert f"cannot reach PostgreSQL at 127.0.0.1:{closed}" in line
    assert "start PostgreSQL" in line and "s3cret-pw" not in line


def test_a_user_command_on_an_unreachable_database_is_one_line_too(tmp_path):
    closed = free_port()
    url = f"postgres://school:pw@127.0.0.1:{closed}/clausewarden"
    line = one_line(cw("user", "list", "--data-dir", str(tmp_path), "--database", url))
    assert line.startswith("clausewarden user: cannot reach PostgreSQL")


def test_demo_at_without_a_utc_offset_is_one_line(tmp_path):
    line = one_line(cw("demo", "--at", "2026-11-25T10:00", "--data-dir", str(tmp_path)))
    assert "give the UTC offset" in line
