"""`clausewarden doctor` against a real site: a `clausewarden serve` and a `clausewarden proxy`
process. One line per check; a failing check names what to do; exit 1 when one fails."""

import shutil

import pytest

from policy.configdir import DEFAULT_CONFIG_DIR
from tests.support.deploy import cli
from tests.support.disk import fill, small_disk
from tests.support.net import free_port
from tests.support.proxy import start_proxy
from tests.support.service import start_service

CHECKS = ("service", "service TLS", "sensor token", "proxy", "PAC file", "CA trusted", "clock",
          "time zone", "free disk", "outbox")  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("doctor")
    proxy = start_proxy(tmp / "proxy")
    config = tmp / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    settings = (config / "settings.yaml").read_text(encoding="utf-8")
    (config / "settings.yaml").write_text(
        settings.replace("proxy_address: null", f"proxy_address: 127.0.0.1:{proxy.port}"),
        encoding="utf-8",
    )
    data = tmp / "data"
    token = cli("sensor", "add", "office", "--data-dir", str(data), "--config", str(config))
    token_file = tmp / "token"
    token_file.write_text(token.stdout.strip().splitlines()[-1] + "\n")
    service = start_service(data, config=config)
    yield tmp, proxy, service, token_file, config
    service.stop()
    proxy.stop()


def doctor(site, *extra: str, trust_ca: bool = True, token_file=None, proxy_port=None):  # type: ignore[no-untyped-def]
    tmp, proxy, service, token, config = site
    env = {"SSL_CERT_FILE": str(proxy.folder / "mitmproxy" / "mitmproxy-ca-cert.pem")}
    return cli(
        "doctor",
        "--service", f"http://127.0.0.1:{service.port}",
        "--token-file", str(token_file or token),
        "--proxy", f"127.0.0.1:{proxy_port or proxy.port}",
        "--data-dir", str(service.folder),
        "--proxy-data-dir", str(proxy.folder / "data"),
        "--config", str(config),
        *extra,
        env=env if trust_ca else {"SSL_CERT_FILE": str(tmp / "no-such-file.pem")},
        check=False,
    )  # fmt: skip


def lines_of(out) -> dict[str, str]:  # type: ignore[no-untyped-def]
    found = {}
    for line in out.stdout.splitlines():
        state, _, rest = line.partition("] ")
        name, _, text = rest.partition(": ")
        found[name] = f"{state.strip('[ ')} {text}"
    return found


def test_a_healthy_site_is_one_ok_line_per_check(site):
    out = doctor(site)
    lines = lines_of(out)
    assert out.returncode == 0, out.stdout + out.stderr
    assert set(CHECKS) <= set(lines)
    for name in CHECKS:
        assert lines[name].startswith("ok "), (name, lines[name])
    assert "trusts the school's CA" in lines["CA trusted"]
    assert "Europe/London" in lines["time zone"]


def test_each_failure_names_what_to_do(site, tmp_path):
    bad_token = tmp_path / "token"
    bad_token.write_text("not-a-token\n")
    out = doctor(site, trust_ca=False, token_file=bad_token)
    lines = lines_of(out)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert lines["sensor token"].startswith("FAIL unknown to the service")
    assert "clausewarden sensor add" in lines["sensor token"]
    assert (
        lines["CA trusted"].startswith("FAIL")
        and "http://clausewarden.internal/ca" in lines["CA trusted"]
    )
    down = free_port()
    lines = lines_of(doctor(site, proxy_port=down))
    assert lines["proxy"].startswith("FAIL") and "is it running" in lines["proxy"]
    assert (
        lines["PAC file"].startswith("FAIL")
        and f"proxy_address: 127.0.0.1:{down}" in lines["PAC file"]
    )


def test_a_service_that_is_not_there_is_one_line(tmp_path):
    out = cli("doctor", "--service", f"http://127.0.0.1:{free_port()}", check=False)
    lines = lines_of(out)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert lines["service"].startswith("FAIL") and "is it running" in lines["service"]
    assert lines["proxy"].startswith("skip") and "--proxy" in lines["proxy"]


def test_a_service_whose_disk_is_full_is_one_line_with_the_reason(tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        service = start_service(disk / "data")
        try:
            filler = fill(disk)
            out = cli("doctor", "--service", f"http://127.0.0.1:{service.port}", check=False)
            filler.unlink()
        finally:
            service.stop()
    line = lines_of(out)["service"]
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert line.startswith("FAIL") and "answered 503 (writes failing since" in line
    assert "the disk holding the database is full" in line
