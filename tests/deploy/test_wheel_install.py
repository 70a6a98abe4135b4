"""The wheel, installed into a fresh virtual environment outside the checkout, runs `serve` and
`proxy` with nothing from the checkout: its default configuration, templates, static files and
migrations come from the wheel.

How, so that it is fast and needs no network beyond what building takes:

- build: the source tree is copied (no .venv, .git, data) to a temporary folder and built there
  with `pip wheel --no-deps` (with setuptools in .venv, without build isolation; otherwise pip
  fetches setuptools into an isolated build environment, once, then from its cache), so the
  checkout gets no build/ folder;
- install: `python -m venv --without-pip` with the same interpreter, then .venv's pip installs the
  wheel into it (`pip --python NEW/bin/python install --no-deps WHEEL`), writing its
  `clausewarden` script as it would on a server;
- dependencies: a .pth line appends .venv's site-packages to the new environment's path, after
  its own. Python does not process .pth files in a folder reached that way, so the editable
  install's finder (which maps `clausewarden` to the checkout) is never loaded: every ClauseWarden
  module can only come from the wheel, and the test checks that it does;
- mitmdump: the console script pip writes for mitmproxy's entry point, in the new environment.
"""

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.net import free_port, stop, wait_for_port
from tests.support.service import Service

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
SKIP_COPY = {".venv", ".git", "data", "test-artifacts", "node_modules", "build", "__pycache__"}
NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}
MACHINE_ETC_VARIABLE = "CLAUSEWARDEN_TEST_SYSTEM_CONFIG_DIR"
MACHINE_ETC = f'''"""Test only (tests/deploy/test_wheel_install.py): the installed wheel takes
the folder in {MACHINE_ETC_VARIABLE} for /etc/clausewarden, so that a school's configuration on
the machine running the tests never reaches them. Loaded at start-up by a .pth file, after the
dependencies."""
import os

if os.environ.get("{MACHINE_ETC_VARIABLE}"):
    from pathlib import Path

    import policy.configdir

    policy.configdir.SYSTEM_CONFIG_DIR = Path(os.environ["{MACHINE_ETC_VARIABLE}"])
'''


@dataclass
class Installed:
    venv: Path
    home: Path  # cwd and HOME of every command: outside the checkout

    @property
    def clausewarden(self) -> str:
        return str(self.venv / "bin" / "clausewarden")

    def env(self, **extra: str) -> dict[str, str]:
        keep = {"PATH": f"{self.venv / 'bin'}:/usr/bin:/bin", "HOME": str(self.home)}
        keep.update({k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TZ")})
        # This test's own "/etc/clausewarden" (none), never the machine's (see MACHINE_ETC).
        keep[MACHINE_ETC_VARIABLE] = str(self.home / "etc-clausewarden-of-this-machine")
        return {**keep, **extra}  # no PYTHONPATH, no CLAUSEWARDEN_*

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=self.home, env=self.env(**extra), capture_output=True, text=True, timeout=120
        )

    def python(self, code: str, **extra: str) -> str:
        result = self.run(str(self.venv / "bin" / "python"), "-c", code, **extra)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


def _copy_source(target: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        # (.coverage.*: data files other workers' processes may be writing meanwhile)
        return {
            n
            for n in names
            if n in SKIP_COPY or n.endswith(".egg-info") or n.startswith(".coverage")
        }

    shutil.copytree(ROOT, target, symlinks=True, ignore=ignore)


def build_wheel(workdir: Path) -> Path:
    source, wheels = workdir / "source", workdir / "wheels"
    _copy_source(source)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels)]
    try:
        import setuptools  # noqa: F401

        command.append("--no-build-isolation")
    except ImportError:
        pass  # pip builds in isolation with setuptools from PyPI (or its cache)
    result = subprocess.run(
        [*command, str(source)], capture_output=True, text=True, timeout=600, cwd=workdir
    )
    assert result.returncode == 0, f"the wheel did not build:\n{result.stdout}\n{result.stderr}"
    [wheel] = wheels.glob("clausewarden-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
        + ["--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        timeout=300,
    )
    site = Path(
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    deps = Path(
        subprocess.run(
            [sys.executable, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "zz_checkout_dependencies.pth").write_text(f"{deps}\n", encoding="utf-8")
    (site / "clausewarden_test_machine.py").write_text(MACHINE_ETC, encoding="utf-8")
    (site / "zzz_clausewarden_test_machine.pth").write_text(
        "import clausewarden_test_machine\n", encoding="utf-8"
    )
    mitmdump = venv / "bin" / "mitmdump"
    mitmdump.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom mitmproxy.tools.main import mitmdump\n"
        "sys.exit(mitmdump())\n",
        encoding="utf-8",
    )
    mitmdump.chmod(0o755)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    workdir = tmp_path_factory.mktemp("wheel")
    assert not workdir.resolve().is_relative_to(ROOT)
    wheel = build_wheel(workdir)
    venv = workdir / "venv"
    install(wheel, venv)
    home = workdir / "site"
    home.mkdir()
    return Installed(venv, home)


def test_the_wheel_carries_the_default_config_templates_static_files_and_migrations(tmp_path):
    import zipfile

    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for config in (ROOT / "config").glob("*.yaml"):
        packaged = zipfile.ZipFile(wheel).read(f"policy/default_config/{config.name}")
        assert packaged == config.read_bytes(), f"{config.name} differs in the wheel"
    assert {"service/templates/login.html", "service/static/style.css"} <= names
    assert "proxy_addon/templates/warning.html" in names
    shipped_files = [*(ROOT / "deploy").glob("systemd/*"), *(ROOT / "deploy").glob("nginx/*")]
    for shipped in [*shipped_files, *(ROOT / "deploy").glob("cron/*")]:
        packaged = zipfile.ZipFile(wheel).read(f"clausewarden/{shipped.relative_to(ROOT)}")
        assert packaged == shipped.read_bytes(), f"{shipped.name} differs in the wheel"
    assert "service/migrations/env.py" in names and "service/migrations/script.py.mako" in names
    assert any(n.startswith("service/migrations/versions/0001") for n in names)


def test_every_clausewarden_module_comes_from_the_installed_wheel(installed):
    where = json.loads(
        installed.python(
            "import json, clausewarden, policy, proxy_addon, service, policy.configdir as c;"
            "print(json.dumps([m.__file__ for m in (clausewarden, policy, proxy_addon, service)]"
            " + [str(c.find_config_dir()[0]), c.find_config_dir()[1]]))"
        )
    )
    *modules, config, why = where
    for path in [*modules, config]:
        assert str(installed.venv) in path and not path.startswith(str(ROOT)), path
    assert config.endswith("site-packages/policy/default_config") and why == "built in"


def test_installed_it_looks_for_the_config_in_etc_and_keeps_its_data_in_var_lib(
    installed, tmp_path
):
    etc = tmp_path / "etc-clausewarden"
    made = installed.run(installed.clausewarden, "config", "init", str(etc))
    assert made.returncode == 0 and made.stdout.startswith(f"wrote 7 files to {etc}"), made.stderr
    for name in (ROOT / "config").glob("*.yaml"):
        assert (etc / name.name).read_bytes() == name.read_bytes()
    again = installed.run(installed.clausewarden, "config", "init", str(etc))
    assert again.returncode == 1 and "nothing was copied" in again.stderr
    valid = installed.run(installed.clausewarden, "config", "validate", "--config", str(etc))
    assert valid.returncode == 0 and f"{etc}: valid." in valid.stdout
    found = installed.python(
        "from pathlib import Path; import policy.configdir as c; from service.config import "
        f"DEFAULT_DATA_DIR; c.SYSTEM_CONFIG_DIR = Path({str(etc)!r}); "
        "print(c.find_config_dir()[0], '|', c.find_config_dir()[1], '|', DEFAULT_DATA_DIR)"
    )
    assert found == f"{etc} | {etc} exists | /var/lib/clausewarden"
    env_wins = installed.python(
        "import policy.configdir as c; print(c.find_config_dir()[1])",
        CLAUSEWARDEN_CONFIG=str(etc),
    )
    assert env_wins == "CLAUSEWARDEN_CONFIG"


@pytest.fixture(scope="module")
def served(installed: Installed) -> Iterator[tuple[int, str, Path]]:
    service = Service(
        installed.home / "service-data",
        command=[installed.clausewarden],
        environ=installed.env(),
        cwd=installed.home,
        log=installed.home / "serve.log",
        sensor="proxy",
    )
    try:
        service.start()
        yield service.port, service.token, service.log
    finally:
        service.stop()


def test_installed_serve_says_what_it_uses_migrates_and_serves_its_pages(installed, served):
    port, _, log = served
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as page:
        assert page.status == 200 and b"<form" in page.read()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/style.css", timeout=10) as css:
        assert css.status == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as health:
        assert health.status == 200
    first = log.read_text().splitlines()[0]
    assert (
        first.startswith("Configuration: ")
        and "site-packages/policy/default_config (built in)" in first
    )
    assert f"data folder: {installed.home / 'service-data'} (--data-dir)" in first
    for package in ("clausewarden", "policy", "proxy_addon", "service"):
        assert f"{ROOT / package}/" not in log.read_text()


def test_installed_proxy_gets_the_bundle_from_the_service_and_warns(installed, served):
    port, token, _ = served
    token_file = installed.home / "proxy.token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    proxy_port = free_port()
    log = installed.home / "proxy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [installed.clausewarden, "proxy", "--listen-port", str(proxy_port)]
            + ["--service-url", f"http://127.0.0.1:{port}", "--sensor-token-file", str(token_file)]
            + ["--data-dir", str(installed.home / "proxy-data")]
            + ["--confdir", str(installed.home / "mitmproxy")],
            cwd=installed.home,
            env=installed.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(proxy_port, process, timeout=60)
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=30)
        conn.request("GET", "http://www.facebook.com/", headers=NAVIGATE)
        response = conn.getresponse()
        body = response.read().decode()
        conn.close()
        assert response.status == 200 and "clause" in body.lower(), body[:500]
        assert (installed.home / "mitmproxy" / "mitmproxy-ca-cert.pem").exists()
        assert (installed.home / "proxy-data" / "bundle.json").exists()  # from the service
    finally:
        stop(process)
    text = log.read_text()
    assert text.startswith(f"Policy: the service http://127.0.0.1:{port}"), text
    for package in ("clausewarden", "policy", "proxy_addon", "service"):
        assert f"{ROOT / package}/" not in text, text


def test_installed_help_texts_name_the_servers_folders_never_the_checkouts(installed):
    for command in (("serve",), ("check",), ("backup",), ("sensor", "add"), ("proxy",),
                    ("config", "validate")):  # fmt: skip
        out = installed.run(installed.clausewarden, *command, "--help", COLUMNS="200")
        assert out.returncode == 0, out.stderr
        text = " ".join(out.stdout.split())
        for checkout_word in ("checkout", "./data", "(default: config/)"):
            assert checkout_word not in text, (command, checkout_word)
    serve = " ".join(installed.run(installed.clausewarden, "serve", "--help").stdout.split())
    # /etc/clausewarden is this test's own folder here (MACHINE_ETC); the data folder is as shipped.
    assert "else /var/lib/clausewarden" in serve and "this-machine when it exists" in serve
