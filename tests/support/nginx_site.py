"""A whole site as docs/deploy.md builds it, on loopback: `clausewarden serve` on loopback with
`--trust-proxy 127.0.0.1`, and Debian's nginx running the shipped deploy/nginx/clausewarden.conf
(its ports, certificate paths and name moved into a temporary folder; nothing else changed)."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.certs import Certs, make_certs
from tests.support.net import free_port, stop, wait_for_port
from tests.support.service import Service

ROOT = Path(__file__).resolve().parents[2]
SITE_CONF = ROOT / "deploy" / "nginx" / "clausewarden.conf"
HOST = "clausewarden.school.test"
PASSWORD = "a-long-password"
NGINX = shutil.which("nginx") or (
    "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
)

need_nginx = pytest.mark.skipif(
    NGINX is None,
    reason="nginx is not installed (apt-get install -y nginx; scripts/system-deps installs it)",
)


@dataclass
class Site:
    https_port: int
    http_port: int
    service_port: int
    certs: Certs
    data: Path

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.https_port}"


def site_conf(folder: Path, ports: dict[str, int], certs: Certs) -> str:
    """The shipped site file with this test's ports, certificate and name."""
    text = SITE_CONF.read_text(encoding="utf-8")
    swaps = {
        "listen 80;": f"listen 127.0.0.1:{ports['http']};",
        "listen [::]:80;": "",
        "listen 443 ssl;": f"listen 127.0.0.1:{ports['https']} ssl;",
        "listen [::]:443 ssl;": "",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{ports['service']};",
        "/etc/clausewarden/tls/fullchain.pem": str(certs.cert),
        "/etc/clausewarden/tls/privkey.pem": str(certs.key),
        "clausewarden.school.example": HOST,
    }
    for old, new in swaps.items():
        assert old in text, f"deploy/nginx/clausewarden.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


def nginx_conf(folder: Path, site: str) -> Path:
    """A minimal nginx.conf around the site file: logs, pid and temp files in `folder`."""
    (folder / "site.conf").write_text(site, encoding="utf-8")
    temps = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the temp folder under tmp
    conf = folder / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temps}\n"
        f"    include {folder / 'site.conf'};\n}}\n",
        encoding="utf-8",
    )
    return conf


def cw(*args: str, data: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "clausewarden", *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CLAUSEWARDEN_PASSWORD": PASSWORD},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@contextmanager
def running_site(folder: Path) -> Iterator[Site]:
    assert NGINX is not None
    certs = make_certs(folder / "tls", HOST)
    data = folder / "data"
    cw("user", "add", "alice", "--role", "admin", data=data)
    service = Service(data, "--trust-proxy", "127.0.0.1")
    ports = {"https": free_port(), "http": free_port(), "service": service.port}
    nginx_dir = folder / "nginx"
    nginx_dir.mkdir()
    conf = nginx_conf(nginx_dir, site_conf(nginx_dir, ports, certs))
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(nginx_dir), "-c", str(conf)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen(
        [NGINX, "-p", str(nginx_dir), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        service.start()
        wait_for_port(ports["https"], nginx)
        wait_for_port(ports["http"], nginx)
        yield Site(ports["https"], ports["http"], ports["service"], certs, data)
    finally:
        stop(nginx)
        service.stop()
