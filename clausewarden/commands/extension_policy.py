"""`clausewarden extension policy --service URL --sensor NAME`: the Chrome/Edge policy that
force-installs the extension on school laptops and configures it (its managed storage), as JSON
for a policy file, the Google Admin console or Intune.

The extension's id is fixed by the manifest's `key` (extension/manifest.json). A school that
self-hosts its own signed build (docs/devices.md) passes that package with --crx: a package
carries the id of the key it was signed with, and the policy must name that id.

The policy carries the laptops' enrolment secret (`clausewarden sensor add NAME --kind enrol`),
never a sensor token: anyone at a laptop can read it (chrome://policy), and it can only enrol.
Each laptop then makes and enrols its own key (docs/devices.md)."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from policy.ids import SENSOR_NAME
from service.crx import CrxError, read_package

EXTENSION_ID = "kfomkahnjfkegjkfmbhipdgibjhlacdh"
"""The id of extension/manifest.json's `key` (a test holds them equal; the wheel carries no
extension folder, so the id is written here)."""
POLICY_FILE_PLACES = (
    ("Google Chrome on Linux", "/etc/opt/chrome/policies/managed/clausewarden.json"),
    ("Chromium on Debian and Ubuntu", "/etc/chromium/policies/managed/clausewarden.json"),
    ("Microsoft Edge on Linux", "/etc/opt/edge/policies/managed/clausewarden.json"),
)
"""Where each browser on Linux reads a managed policy file (Debian's Chromium is not Chrome)."""
TOKEN_PLACEHOLDER = "PASTE-THE-SECRET-OF-clausewarden-sensor-add-kind-enrol-HERE"  # noqa: S105


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "extension", help="the browser extension on school laptops", description=__doc__
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser(
        "policy",
        help="print the Chrome/Edge policy JSON that installs and configures the extension",
        description=__doc__,
    )
    p.add_argument("--service", required=True, metavar="URL", help="the service's URL (https://)")
    p.add_argument(
        "--sensor",
        required=True,
        metavar="NAME",
        help="from `clausewarden sensor add NAME --kind enrol`",
    )
    p.add_argument(
        "--token-file",
        type=Path,
        help="file holding that enrolment secret (default: a placeholder to replace)",
    )
    p.add_argument("--crx", type=Path, help="the school's signed package (its id is used)")
    p.add_argument(
        "--update-url",
        help="where browsers get the package (default: URL/extension/updates.xml, served by "
        "the service from the data folder's extension/clausewarden.crx)",
    )
    p.add_argument(
        "--format",
        choices=("policy-file", "google-admin", "intune"),
        default="policy-file",
        help="policy-file: a managed policy JSON (Chrome and Edge on Linux/macOS, or the "
        "values for Group Policy/Intune); google-admin: the extension's 'Policy for "
        "extensions' box; intune: the OMA-URI settings (default: policy-file)",
    )
    p.set_defaults(run=run)


def _fail(line: str) -> int:
    print(f"clausewarden extension policy: {line}", file=sys.stderr)
    return 2


def extension_id(crx: Path | None) -> str:
    if crx is not None:
        return read_package(crx.read_bytes()).extension_id
    return EXTENSION_ID


def managed_settings(service: str, sensor: str, secret: str) -> dict[str, str]:
    """The extension's managed storage (extension/managed_storage.json names these keys): the
    enrolment secret (masked on chrome://policy: `sensitiveValue`), which can only enrol."""
    return {"service_url": service, "sensor_name": sensor, "enrolment_secret": secret}


def policy_document(ext_id: str, update_url: str, settings: dict[str, str]) -> dict[str, Any]:
    return {
        "ExtensionInstallForcelist": [f"{ext_id};{update_url}"],
        "3rdparty": {"extensions": {ext_id: settings}},
    }


def run(args: argparse.Namespace) -> int:
    service = args.service.rstrip("/")
    parts = urlsplit(service)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _fail(f"--service {args.service!r} is not a URL: give e.g. https://cw.school.lan")
    if not SENSOR_NAME.match(args.sensor):
        return _fail(f"--sensor {args.sensor!r} is not a sensor name (letters, digits, - and _)")
    token = TOKEN_PLACEHOLDER
    if args.token_file is not None:
        try:
            token = args.token_file.read_text(encoding="utf-8").strip().splitlines()[-1].strip()
        except (OSError, IndexError):
            return _fail(f"--token-file {str(args.token_file)!r} cannot be read or is empty")
    try:
        ext_id = extension_id(args.crx)
    except OSError as exc:
        return _fail(f"--crx {str(args.crx)!r} cannot be read ({exc.strerror})")
    except CrxError as exc:
        return _fail(f"--crx {str(args.crx)!r}: {exc}; sign it with chromium --pack-extension")
    update_url = args.update_url or f"{service}/extension/updates.xml"
    settings = managed_settings(service, args.sensor, token)
    if args.format == "google-admin":
        document: Any = {key: {"Value": value} for key, value in settings.items()}
    elif args.format == "intune":
        document = intune_settings(ext_id, update_url, settings)
    else:
        document = policy_document(ext_id, update_url, settings)
    print(json.dumps(document, indent=2))
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        print(
            "Note: the service is plain http: put TLS in front (docs/deploy.md) so that the "
            "token is not sent in clear.",
            file=sys.stderr,
        )
    if args.crx is None:
        print(
            f"Warning: no --crx given, so the policy names {EXTENSION_ID}, the id of the "
            "source's manifest key. A package the school signed with its own key has another id, "
            "and browsers install nothing for this one: give --crx FILE (the package the service "
            "serves) so the policy names the id it is signed with.",
            file=sys.stderr,
        )
    if args.format == "policy-file":
        places = "; ".join(f"{who}: {path}" for who, path in POLICY_FILE_PLACES)
        print(f"Save it as a managed policy file ({places}).", file=sys.stderr)
    if token == TOKEN_PLACEHOLDER:
        print(
            f"Note: replace {TOKEN_PLACEHOLDER} with the token `clausewarden sensor add "
            f"{args.sensor} --kind enrol` printed (or pass --token-file).",
            file=sys.stderr,
        )
    return 0


def intune_settings(ext_id: str, update_url: str, settings: dict[str, str]) -> dict[str, Any]:
    """Intune custom OMA-URI rows for Chrome (after its ADMX is ingested) and Edge, and the
    registry values they set: the managed storage goes under 3rdparty\\extensions\\ID\\policy."""
    rows: list[dict[str, str]] = []
    for browser, root in (("Chrome", r"Software\Policies\Google\Chrome"),
                          ("Edge", r"Software\Policies\Microsoft\Edge")):  # fmt: skip
        rows.append(
            {
                "browser": browser,
                "registry_key": rf"HKLM\{root}\ExtensionInstallForcelist",
                "value_name": "1",
                "value": f"{ext_id};{update_url}",
            }
        )
        for name, value in settings.items():
            rows.append(
                {
                    "browser": browser,
                    "registry_key": rf"HKLM\{root}\3rdparty\extensions\{ext_id}\policy",
                    "value_name": name,
                    "value": value,
                }
            )
    return {"extension_id": ext_id, "registry": rows}
