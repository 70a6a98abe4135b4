"""The school's own signed build of the extension, as docs/devices.md says to make it: a fresh
key, and Chromium's --pack-extension."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


def signed_package(folder: Path) -> Path:
    """`folder`/clausewarden.crx, signed with a key made for it; skips without Chromium."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is needed to sign a package (scripts/system-deps installs it)")
    build = folder / "clausewarden"
    shutil.copytree(
        ROOT / "extension", build, ignore=shutil.ignore_patterns("tests", "node_modules")
    )
    key = folder / "extension-key.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    subprocess.run(
        [CHROMIUM, "--headless=new", "--no-sandbox", f"--pack-extension={build}",
         f"--pack-extension-key={key}"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return folder / "clausewarden.crx"
