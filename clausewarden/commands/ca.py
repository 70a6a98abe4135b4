"""`clausewarden ca`: where the proxy's CA certificate is, its fingerprint, the CA page devices
download it from, and (--export DIR) the certificate in every format for an MDM or Group Policy."""

import argparse
import os
import sys
from pathlib import Path

from proxy_addon.ca_page import CERT_FILE, read_ca

GUIDE = """\
ClauseWarden's proxy decrypts HTTPS only for social media hosts (and hosts where the school
injects sign-in headers). For that, school-owned devices must trust the proxy's CA certificate.
Staff's own devices and visitors never need it: their connections are tunnelled, never decrypted.

  CA certificate (PEM): {pem}
  {state}
  Keep {key} secret: it holds the private key. Never copy it to devices.

The CA page, through the proxy (as mitmproxy has mitm.it), offers the certificate in every format
with the steps for Windows (Group Policy, Intune), macOS, iPhone and iPad, ChromeOS, Android and
Firefox:

  http://clausewarden.internal/ca      (https://clausewarden.internal/ca opens without a
                                        warning once the device trusts the certificate)

  Windows (Group Policy): Computer Configuration > Policies > Windows Settings > Security
    Settings > Public Key Policies > Trusted Root Certification Authorities > Import the .cer.
  Windows (Intune): Devices > Configuration > Create > Templates > Trusted certificate (.cer).
  macOS, iOS, iPadOS: the .mobileconfig configuration profile from the school's MDM (by hand
    on iOS, also Settings > General > About > Certificate Trust Settings).
  ChromeOS: Google Admin console > Devices > Networks > Certificates, upload the .crt, tick
    "Chromebook" under "Use this certificate as an HTTPS certificate authority".
  Firefox (its own store): enterprise policy "Certificates": {{"ImportEnterpriseRoots": true}}.

`clausewarden ca --export DIR` writes every format for an MDM; `clausewarden pac` and the
service's /proxy.pac send devices to the proxy (docs/devices.md).
"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "ca", help="where the proxy's CA certificate is and how to put it on devices"
    )
    parser.add_argument(
        "--confdir",
        type=Path,
        default=Path.home() / ".mitmproxy",
        help="mitmproxy's folder, as given to `clausewarden proxy --confdir` (~/.mitmproxy)",
    )
    parser.add_argument(
        "--export",
        type=Path,
        metavar="DIR",
        help="write the certificate as .pem, .crt, .cer, .p12 (no key) and .mobileconfig",
    )
    parser.add_argument("--school", default="", help="the name shown in the Apple profile")
    parser.add_argument(
        "--renew",
        action="store_true",
        help="replace the CA with a new one named for the school (--school, else the policy's "
        "school short_name); the old files move to a replaced-<time> folder. Every device must "
        "then trust the new certificate, and the proxy be restarted",
    )
    parser.add_argument("--config", type=Path, help="configuration folder, for the school's name")
    parser.set_defaults(run=run)


def renew(confdir: Path, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from policy.configdir import find_config_dir, load_config_dir
    from proxy_addon.school_ca import ca_common_name, renew_school_ca

    if not (confdir / "mitmproxy-ca.pem").exists():
        print(
            f"clausewarden ca: no CA in {confdir} to renew: start `clausewarden proxy "
            f"--confdir {confdir}` once (it makes one named for the school)",
            file=sys.stderr,
        )
        return 2
    school = (
        args.school or load_config_dir(find_config_dir(args.config)[0]).policy.school.short_name
    )
    aside = renew_school_ca(confdir, school, datetime.now(UTC))
    print(
        f"Made a new CA {ca_common_name(school)!r}; the old one is in {aside}.\n"
        "Restart the proxy, then put the new certificate on every device (below): until a "
        "device trusts it, social media pages there fail with a certificate error.\n"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    confdir: Path = args.confdir.expanduser()
    if args.renew and (code := renew(confdir, args)) != 0:
        return code
    files = read_ca(confdir, args.school)
    if files is None:
        state = "(not created yet: the proxy creates it the first time `clausewarden proxy` starts)"
    else:
        state = f"SHA-256 fingerprint {files.sha256}, valid until {files.not_after}"
    print(GUIDE.format(pem=confdir / CERT_FILE, key=confdir / "mitmproxy-ca.pem", state=state))
    if args.export is None:
        return 0
    if files is None:
        print(
            f"clausewarden ca: no certificate in {confdir} yet: start `clausewarden proxy "
            f"--confdir {confdir}` once, then export",
            file=sys.stderr,
        )
        return 2
    args.export.mkdir(parents=True, exist_ok=True)
    for download in files.downloads.values():
        path = args.export / download.name
        path.write_bytes(download.data)
        os.chmod(path, 0o644)  # a certificate is public
        print(f"wrote {path}")
    return 0
