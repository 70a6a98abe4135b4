"""The PAC file: generated from the bundle, served by the service at /proxy.pac (and /wpad.dat)
and by the proxy itself, catalogue hosts to the proxy and everything else DIRECT."""

import http.client
import shutil
import urllib.request
from pathlib import Path

import pytest

from policy.configdir import DEFAULT_CONFIG_DIR
from policy.pages_host import PAGES_HOST
from service.app import create_app
from service.config import Config
from tests.support.deploy import cli, run_pac
from tests.support.proxy import start_proxy

HOSTS = [
    "www.facebook.com",
    "WWW.Instagram.com",
    "www.facebook.com.",  # a fully qualified name with its trailing dot
    "m.facebook.com..",
    PAGES_HOST,
    "www.bbc.co.uk",
    "notfacebook.com",
    "facebook.com.evil.example",
]


def expected(proxy: str) -> list[str]:
    return [f"PROXY {proxy}"] * 5 + ["DIRECT"] * 3


def test_pac_command_sends_the_catalogue_to_the_proxy_and_the_rest_direct(tmp_path):
    text = cli("pac", "--proxy", "proxy.school.lan:3128").stdout
    assert run_pac(text, HOSTS, tmp_path) == expected("proxy.school.lan:3128")


def _config(tmp_path: Path, proxy_address: str = "null") -> Path:
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    platforms = (folder / "platforms.yaml").read_text(encoding="utf-8")
    platforms = platforms.replace(
        "platforms:\n",
        "platforms:\n"
        "  - id: staffroom\n    name: Staffroom\n    category: forum\n"
        "    domains: [staffroom.co.uk]\n",
        1,
    )
    (folder / "platforms.yaml").write_text(platforms, encoding="utf-8")
    settings = (folder / "settings.yaml").read_text(encoding="utf-8")
    settings = settings.replace("youtube_restrict: null", "youtube_restrict: Strict")
    settings = settings.replace("proxy_address: null", f"proxy_address: {proxy_address}")
    (folder / "settings.yaml").write_text(settings, encoding="utf-8")
    return folder


async def test_service_serves_the_pac_file_at_a_stable_url_without_login(aiohttp_client, tmp_path):
    config = _config(tmp_path)
    cli_ = await aiohttp_client(create_app(Config(data_dir=tmp_path / "data", config_dir=config)))
    for path in ("/proxy.pac", "/wpad.dat"):
        response = await cli_.get(path, headers={"Host": "cw.school.lan"})
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("application/x-ns-proxy-autoconfig")
        text = await response.text()
        assert run_pac(text, [*HOSTS, "forum.staffroom.co.uk", "www.youtube.com"], tmp_path) == [
            *expected("cw.school.lan:8080"),
            "PROXY cw.school.lan:8080",  # a platform of this school's catalogue
            "PROXY cw.school.lan:8080",  # a header-injection host (YouTube restricted mode)
        ]


async def test_service_pac_follows_the_bundle_version_and_the_proxy_address_setting(
    aiohttp_client, tmp_path
):
    from tests.support.service import add_sensor, bearer

    config = _config(tmp_path, "10.0.0.5:3128")
    app = create_app(Config(data_dir=tmp_path / "data", config_dir=config))
    client = await aiohttp_client(app)
    token = await add_sensor(client)
    bundle = await (await client.get("/api/v1/bundle", headers=bearer(token))).json()
    text = await (await client.get("/proxy.pac")).text()
    assert f"ClauseWarden policy {bundle['version']}:" in text.splitlines()[0]
    assert run_pac(text, HOSTS, tmp_path) == expected("10.0.0.5:3128")


async def test_a_forged_host_header_cannot_put_script_in_the_pac_file(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(Config(data_dir=tmp_path / "data")))
    response = await client.get("/proxy.pac", headers={"Host": 'x";alert(1);//'})
    assert response.status == 400


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pac-proxy")
    config = _config(tmp)
    running = start_proxy(tmp / "proxy", config=config)
    yield running, config
    running.stop()


def test_proxy_serves_the_pac_file_asked_directly_with_the_address_it_was_reached_at(
    proxy, tmp_path
):
    running, _ = proxy
    for path in ("/proxy.pac", "/wpad.dat"):
        with urllib.request.urlopen(f"http://127.0.0.1:{running.port}{path}", timeout=10) as r:
            assert r.headers["Content-Type"] == "application/x-ns-proxy-autoconfig"
            text = r.read().decode()
        assert run_pac(text, [*HOSTS, "www.staffroom.co.uk"], tmp_path) == [
            *expected(f"127.0.0.1:{running.port}"),
            f"PROXY 127.0.0.1:{running.port}",
        ]


def test_proxy_serves_the_pac_file_on_its_own_host_and_follows_a_config_change(proxy, tmp_path):
    running, config = proxy

    def fetch() -> str:
        conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
        conn.request("GET", f"http://{PAGES_HOST}/proxy.pac")
        response = conn.getresponse()
        assert response.status == 200
        return response.read().decode()

    assert "newforum.co.uk" not in fetch()
    platforms = (config / "platforms.yaml").read_text(encoding="utf-8")
    (config / "platforms.yaml").write_text(
        platforms.replace("domains: [staffroom.co.uk]", "domains: [newforum.co.uk]"),
        encoding="utf-8",
    )
    import time

    deadline = time.monotonic() + 30
    while "newforum.co.uk" not in (text := fetch()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run_pac(text, ["www.newforum.co.uk", "www.staffroom.co.uk"], tmp_path) == [
        f"PROXY 127.0.0.1:{running.port}",
        "DIRECT",
    ]
