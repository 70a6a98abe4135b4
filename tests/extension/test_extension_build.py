"""`node extension/build.mjs --zip` builds the package a school uploads or self-hosts."""

import json
import posixpath
import re
import subprocess
import zipfile
from pathlib import Path

EXTENSION = Path(__file__).resolve().parents[2] / "extension"


def test_the_zip_holds_exactly_the_files_the_browser_loads(node: str, tmp_path: Path) -> None:
    archive = tmp_path / "ext.zip"
    subprocess.run([node, str(EXTENSION / "build.mjs"), "--zip", "--out", str(archive)], check=True)
    with zipfile.ZipFile(archive) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
        for name in names:
            assert z.read(name) == (EXTENSION / name).read_bytes(), name
    assert {"manifest.json", "default-bundle.json", "managed_storage.json"} <= names
    assert {"warning.html", "options.html", "pages.css", "js/background.js"} <= names
    assert not any(n.startswith("tests/") or n.endswith(".mjs") for n in names)
    referenced = {manifest["background"]["service_worker"], manifest["options_page"]}
    referenced |= {manifest["storage"]["managed_schema"]}
    for entry in manifest["web_accessible_resources"]:
        referenced |= set(entry["resources"])
    assert referenced <= names
    # Every module the pages and the worker import is packaged.
    for js in (n for n in names if n.endswith(".js")):
        for imported in re.findall(r'from "(\.\.?/[\w/.-]+\.js)"', z_text(archive, js)):
            assert posixpath.normpath(posixpath.join(posixpath.dirname(js), imported)) in names, (
                js,
                imported,
            )


def test_the_zip_is_reproducible(node: str, tmp_path: Path) -> None:
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    for out in (a, b):
        subprocess.run([node, str(EXTENSION / "build.mjs"), "--zip", "--out", str(out)], check=True)
    assert a.read_bytes() == b.read_bytes()


def z_text(archive: Path, name: str) -> str:
    with zipfile.ZipFile(archive) as z:
        return z.read(name).decode()
