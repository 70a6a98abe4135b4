"""The extension on school laptops: a fixed id (the manifest's key), the self-hosted update
manifest served by the service, and `clausewarden extension policy` printing the Chrome/Edge
policy that installs and configures it."""

import json
import shutil
from pathlib import Path

import pytest

from clausewarden.commands.extension_policy import EXTENSION_ID
from service.app import create_app
from service.config import Config
from service.crx import id_from_manifest_key, read_package
from tests.support.crx import signed_package
from tests.support.deploy import ROOT, cli

EXTENSION = ROOT / "extension"


def test_the_manifest_key_fixes_the_extension_id():
    manifest = json.loads((EXTENSION / "manifest.json").read_text(encoding="utf-8"))
    assert id_from_manifest_key(manifest["key"]) == EXTENSION_ID
    assert not list(ROOT.glob("extension/*.pem")), "a private key is never committed"


def test_policy_prints_the_forcelist_and_the_managed_settings_of_managed_storage(tmp_path):
    token = tmp_path / "token"
    token.write_text("cw_sensor_token_value\n")
    out = cli(
        "extension", "policy", "--service", "https://cw.school.lan/", "--sensor", "laptops",
        "--token-file", str(token),
    )  # fmt: skip
    policy = json.loads(out.stdout)
    assert policy["ExtensionInstallForcelist"] == [
        f"{EXTENSION_ID};https://cw.school.lan/extension/updates.xml"
    ]
    settings = policy["3rdparty"]["extensions"][EXTENSION_ID]
    schema = json.loads((EXTENSION / "managed_storage.json").read_text(encoding="utf-8"))
    assert set(settings) <= set(schema["properties"])
    assert settings == {
        "service_url": "https://cw.school.lan",
        "sensor_name": "laptops",
        "enrolment_secret": "cw_sensor_token_value",
    }
    # Masked on chrome://policy (issue 16: the policy carries only what can enrol).
    assert schema["properties"]["enrolment_secret"]["sensitiveValue"] is True
    admin = json.loads(
        cli("extension", "policy", "--service", "https://cw.school.lan", "--sensor", "laptops",
            "--format", "google-admin").stdout
    )  # fmt: skip
    assert admin["sensor_name"] == {"Value": "laptops"}
    intune = json.loads(
        cli("extension", "policy", "--service", "https://cw.school.lan", "--sensor", "laptops",
            "--format", "intune").stdout
    )  # fmt: skip
    keys = {row["registry_key"] for row in intune["registry"]}
    assert (
        rf"HKLM\Software\Policies\Microsoft\Edge\3rdparty\extensions\{EXTENSION_ID}\policy" in keys
    )


def test_policy_mistakes_end_in_one_line():
    out = cli("extension", "policy", "--service", "cw.school.lan", "--sensor", "x", check=False)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "--service" in out.stderr
    out = cli("extension", "policy", "--service", "https://a", "--sensor", "a b", check=False)
    assert out.returncode == 2 and "--sensor" in out.stderr and "Traceback" not in out.stderr


@pytest.fixture(scope="module")
def signed_crx(tmp_path_factory) -> Path:
    return signed_package(tmp_path_factory.mktemp("crx"))


async def test_service_serves_the_update_manifest_and_the_package(
    aiohttp_client, tmp_path, signed_crx
):
    package = read_package(signed_crx.read_bytes())
    data = tmp_path / "data"
    client = await aiohttp_client(create_app(Config(data_dir=data)))
    missing = await client.get("/extension/updates.xml")
    assert missing.status == 404 and "extension/" in await missing.text()
    (data / "extension").mkdir()
    shutil.copy(signed_crx, data / "extension" / "clausewarden.crx")
    response = await client.get("/extension/updates.xml")
    assert response.status == 200
    xml = await response.text()
    assert f'appid="{package.extension_id}"' in xml
    manifest = json.loads((EXTENSION / "manifest.json").read_text(encoding="utf-8"))
    assert f'version="{manifest["version"]}"' in xml
    codebase = xml.split('codebase="', 1)[1].split('"', 1)[0]
    assert codebase.endswith("/extension/clausewarden.crx")
    crx = await client.get("/extension/clausewarden.crx")
    assert crx.status == 200 and crx.headers["Content-Type"] == "application/x-chrome-extension"
    assert await crx.read() == signed_crx.read_bytes()


def test_policy_names_the_id_of_the_schools_signed_package(signed_crx):
    out = cli("extension", "policy", "--service", "https://cw.school.lan", "--sensor", "laptops",
              "--crx", str(signed_crx))  # fmt: skip
    package = read_package(signed_crx.read_bytes())
    policy = json.loads(out.stdout)
    assert policy["ExtensionInstallForcelist"][0].startswith(package.extension_id + ";")
    assert package.extension_id in policy["3rdparty"]["extensions"]
    assert "no --crx given" not in out.stderr


def test_policy_without_crx_warns_that_no_school_signed_package_has_that_id():
    out = cli("extension", "policy", "--service", "https://cw.school.lan", "--sensor", "laptops")
    policy = json.loads(out.stdout)  # stdout stays the JSON alone
    assert policy["ExtensionInstallForcelist"][0].startswith(EXTENSION_ID + ";")
    assert f"Warning: no --crx given, so the policy names {EXTENSION_ID}" in out.stderr
    assert "give --crx FILE" in out.stderr


def test_policy_file_output_names_the_folder_debians_chromium_reads():
    out = cli("extension", "policy", "--service", "https://cw.school.lan", "--sensor", "laptops")
    assert "Chromium on Debian and Ubuntu: /etc/chromium/policies/managed/clausewarden.json" in (
        out.stderr
    )
    assert "/etc/opt/chrome/policies/managed/clausewarden.json" in out.stderr
