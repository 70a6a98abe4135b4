"""Token files as a new admin makes them, and output read through a pipe: `clausewarden sensor add
laptops > laptops.token` saves the token alone, `check --token-file` refuses any other file in one
line that never shows its text, and `clausewarden check URL | head` ends without a traceback."""

import os
import subprocess
import sys

from tests.support.deploy import ROOT, cli

CLAUSEWARDEN = (sys.executable, "-m", "clausewarden")


def test_sensor_add_redirected_to_a_file_saves_the_token_alone(tmp_path):
    token_file = tmp_path / "laptops.token"
    with token_file.open("w") as out:
        added = subprocess.run(
            [*CLAUSEWARDEN, "sensor", "add", "laptops", "--data-dir", str(tmp_path / "data")],
            stdout=out, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120,
        )  # fmt: skip
    assert added.returncode == 0, added.stderr
    saved = token_file.read_text()
    assert saved.count("\n") == 1 and saved.startswith("cws_") and " " not in saved.strip()
    assert "Sensor 'laptops' added" in added.stderr  # the rest went to the terminal


def test_check_refuses_a_two_line_token_file_in_one_line_without_showing_the_token(tmp_path):
    token = "cws_" + "Q" * 43
    token_file = tmp_path / "laptops.token"
    # What `sensor add laptops > laptops.token` saved before it printed the token alone.
    token_file.write_text(
        f"Sensor 'laptops' added. Its token (shown once, stored only as a hash):\n{token}\n"
    )
    out = cli(
        "check", "https://www.facebook.com/", "--service", "http://127.0.0.1:9",
        "--token-file", str(token_file), check=False,
    )  # fmt: skip
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "does not hold one sensor token alone" in out.stderr
    assert "sensor add NAME > FILE" in out.stderr
    assert token not in out.stderr and "Q" * 10 not in out.stderr


def test_check_refuses_a_token_with_a_space_or_control_character_without_echoing_it(tmp_path):
    token_file = tmp_path / "pasted.token"
    secret = "cws_secretpart1234567890 trailing-words"
    token_file.write_text(secret + "\n")
    out = cli(
        "check", "https://www.facebook.com/", "--service", "http://127.0.0.1:9",
        "--token-file", str(token_file), check=False,
    )  # fmt: skip
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "secretpart" not in out.stderr + out.stdout


def test_check_piped_into_a_reader_that_stopped_reading_ends_without_a_traceback():
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written, as `| head` ends early
    try:
        out = subprocess.run(
            [*CLAUSEWARDEN, "check", "https://www.facebook.com/"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert out.stderr == "", out.stderr  # no BrokenPipeError, no "Exception ignored"
    assert out.returncode == 141


def test_check_through_head_prints_the_first_lines_and_nothing_else():
    out = subprocess.run(
        ["sh", "-c", "\"$@\" | head -n 2", "sh", *CLAUSEWARDEN, "check",
         "https://www.facebook.com/", "--at", "2026-11-25T10:30:00+00:00"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert out.stdout.splitlines() == ["GET https://www.facebook.com/", "  outcome:  WARN"]
    assert out.stderr == ""
