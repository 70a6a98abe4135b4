"""deploy/install.sh, the install step of docs/deploy.md: it takes a Python of at least 3.12 that
the service's users can run, and refuses in one line (before writing anything) a Python 3.11 and
a Python the service's users cannot run (one under /root, as pyenv and uv put it). The users are
real: root drops to `nobody` with setpriv, as the script does for clausewarden."""

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.deploy import ROOT

INSTALL = ROOT / "deploy" / "install.sh"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="drops to another user: needs root")


def install_sh(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(INSTALL), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "CLAUSEWARDEN_USERS": "nobody", **env},
    )


def version_of(python: str) -> tuple[int, int]:
    out = subprocess.run(
        [python, "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    major, minor = out.stdout.split()
    return int(major), int(minor)


def a_python_3_11() -> str:
    for candidate in ["/usr/bin/python3.11", "/usr/bin/python3",
                      *sorted(glob.glob("/root/.pyenv/versions/3.11*/bin/python3"))]:  # fmt: skip
        if Path(candidate).exists() and version_of(candidate) == (3, 11):
            return candidate
    pytest.skip("no Python 3.11 on this machine")


def test_a_python_3_11_is_refused_in_one_line_naming_the_way_to_3_12(tmp_path):
    python = a_python_3_11()
    out = install_sh("--python", python, "--check-python", CLAUSEWARDEN_VENV=str(tmp_path / "v"))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1, out.stderr
    assert f"{python} is Python 3.11" in out.stderr and "needs Python 3.12 or later" in out.stderr
    assert "--get-python" in out.stderr and "No matching distribution" not in out.stderr
    assert not (tmp_path / "v").exists()


def test_a_python_in_a_folder_only_root_can_enter_is_refused_for_the_service_user(tmp_path):
    # tmp_path lies under a 0700 folder of root's, as /root/.pyenv/versions/... does.
    assert os.stat(tmp_path.parent).st_mode & 0o077 == 0
    python = tmp_path / "python3"
    python.symlink_to(sys.executable)  # a Python of at least 3.12 (this test's own)
    assert version_of(str(python)) >= (3, 12)
    out = install_sh("--python", str(python), "--check-python")
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert f"{python} (Python 3." in out.stderr and "cannot be run by the user nobody" in out.stderr
    assert "--get-python" in out.stderr


def test_without_a_new_enough_python_on_path_the_search_ends_in_one_line():
    if any(version_of(p) >= (3, 12) for p in (shutil.which("python3", path="/usr/bin:/bin"),) if p):
        pytest.skip("this machine's /usr/bin/python3 is new enough")
    out = install_sh("--check-python")
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "needs Python 3.12 or later" in out.stderr


def test_a_python_3_12_the_service_user_can_run_is_taken(tmp_path_factory):
    """A Python 3.12 in a folder everyone may enter: pyenv's, linked (not copied) under /var/tmp,
    with its shared library found by LD_LIBRARY_PATH (its RUNPATH names /root)."""
    source = Path(sys.base_prefix)
    open_folder = Path(
        subprocess.run(["mktemp", "-d", "/var/tmp/cw-python-XXXXXX"], capture_output=True,
                       text=True, check=True).stdout.strip()
    )  # fmt: skip
    try:
        os.chmod(open_folder, 0o755)  # noqa: S103 - for nobody, as /opt is
        linked = subprocess.run(["cp", "-al", str(source), str(open_folder / "py")],
                                capture_output=True, text=True)  # fmt: skip
        if linked.returncode != 0:
            pytest.skip(f"cannot link {source} elsewhere: {linked.stderr.strip()}")
        python = open_folder / "py" / "bin" / "python3"
        out = install_sh(
            "--python", str(python), "--check-python",
            LD_LIBRARY_PATH=str(open_folder / "py" / "lib"),
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert f"at {python}, which nobody can run" in out.stderr
    finally:
        shutil.rmtree(open_folder)
