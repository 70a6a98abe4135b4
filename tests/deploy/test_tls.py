"""TLS for the service: `serve --tls-cert FILE --tls-key FILE` (aiohttp's own TLS), Secure cookies
and HSTS whenever a request came over TLS (directly, or through a trusted reverse proxy's
X-Forwarded-Proto), and one clear line for each mistake with the files."""

import http.client
import ssl
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.app import create_app
from service.config import Config
from tests.support.certs import Certs, make_certs
from tests.support.net import free_port
from tests.support.service import Service

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HOST = "clausewarden.school.test"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"), HOST)


def serve(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clausewarden", "serve", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_with_tls_answers_https_only_with_hsts_and_secure_cookies(certs, tmp_path):
    service = Service(tmp_path / "data", "--tls-cert", str(certs.cert), "--tls-key", str(certs.key))
    port = service.port
    try:
        service.start()
        context = ssl.create_default_context(cafile=str(certs.ca))
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
        conn.request("GET", "/login")
        response = conn.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Strict-Transport-Security") == "max-age=31536000"
        cookie = response.getheader("Set-Cookie") or ""
        assert "clausewarden_session=" in cookie and "; Secure" in cookie
        assert context.minimum_version <= ssl.TLSVersion.TLSv1_2
        assert conn.sock is not None and conn.sock.version() in ("TLSv1.2", "TLSv1.3")
        conn.close()
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            plain.request("GET", "/login")
            plain.getresponse().read()  # a TLS server does not answer plain http
        plain.close()
    finally:
        service.stop()
    output = service.output()
    assert f"ClauseWarden service on https://127.0.0.1:{port}/" in output


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--tls-cert", "{cert}"], "--tls-cert and --tls-key go together"),
        (
            ["--tls-cert", "{missing}", "--tls-key", "{key}"],
            "--tls-cert: '{missing}' is not a file",
        ),
        (["--tls-cert", "{key}", "--tls-key", "{key}"], "give the PEM certificate and the PEM"),
        (["--tls-cert", "{cert}", "--tls-key", "{other_key}"], "private key that belongs to it"),
        (["--trust-proxy", "nginx.local"], "--trust-proxy: 'nginx.local' is not an address"),
    ],
)
def test_each_mistake_with_tls_files_is_one_line_naming_the_fix(certs, tmp_path, options, expected):
    other = make_certs(tmp_path / "other")
    values = {
        "cert": certs.cert,
        "key": certs.key,
        "other_key": other.key,
        "missing": tmp_path / "nothing.pem",
    }
    args = [option.format(**values) for option in options]
    result = serve("--port", str(free_port()), *args, data=tmp_path / "data")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected.format(**values) in lines[0], result.stderr
    assert "Traceback" not in result.stderr


async def _app_client(aiohttp_client: Any, tmp_path: Path, **config: Any) -> Any:
    base = {"data_dir": tmp_path / "data", "clock": lambda: NOW, "background_tasks": False}
    return await aiohttp_client(create_app(Config(**{**base, **config})))


async def test_behind_a_trusted_proxy_that_says_https_cookies_are_secure_and_hsts_is_sent(
    aiohttp_client, tmp_path
):
    cli = await _app_client(aiohttp_client, tmp_path, trusted_proxies=("127.0.0.1",))
    response = await cli.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert response.cookies["clausewarden_session"]["secure"]
    plain = await cli.get("/login", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers
    assert not plain.cookies["clausewarden_session"]["secure"]


async def test_without_trusted_proxies_forwarded_headers_change_nothing(aiohttp_client, tmp_path):
    cli = await _app_client(aiohttp_client, tmp_path)
    response = await cli.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
    assert not response.cookies["clausewarden_session"]["secure"]


async def test_secure_cookies_option_marks_them_secure_even_on_plain_http(aiohttp_client, tmp_path):
    cli = await _app_client(aiohttp_client, tmp_path, secure_cookies=True)
    response = await cli.get("/login")
    assert response.cookies["clausewarden_session"]["secure"]
    assert "Strict-Transport-Security" not in response.headers  # HSTS only over TLS
