"""`clausewarden ca`: where mitmproxy's CA certificate is, and how a school deploys it."""

import argparse
from pathlib import Path

GUIDE = """\
ClauseWarden's proxy decrypts HTTPS only for social media hosts (and hosts where the school
injects sign-in headers). For that, school devices must trust the proxy's own CA certificate.

  CA certificate (PEM): {pem}
  CA certificate (DER, for Windows/macOS): {cer}
  {state}
  Keep {key} secret: it holds the private key. Never copy it to devices.

Deploy the certificate (not the key) to school-owned devices only:

  Windows (Group Policy): Computer Configuration > Policies > Windows Settings > Security
    Settings > Public Key Policies > Trusted Root Certification Authorities > Import {cer}.
  macOS: a configuration profile with a Certificate payload holding {cer}, installed through
    the school's MDM (Apple Business/School Manager); trust it for SSL.
  ChromeOS: Google Admin console > Devices > Networks > Certificates > Add certificate,
    upload {pem}, tick "Chromebook" under "Use this certificate as an HTTPS certificate authority".
  Firefox (its own store): enterprise policy "Certificates": {{"ImportEnterpriseRoots": true}}
    (uses the Windows/macOS store), or {{"Install": ["{pem}"]}} in policies.json.

Then point browsers at the proxy with the PAC file from `clausewarden pac`.
"""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("ca", help="where the proxy's CA certificate is and how to deploy it")
    parser.add_argument(
        "--confdir", type=Path, default=Path.home() / ".mitmproxy", help="mitmproxy's folder"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    confdir: Path = args.confdir.expanduser()
    pem = confdir / "mitmproxy-ca-cert.pem"
    state = (
        "(present)"
        if pem.exists()
        else "(not created yet: it is created the first time `clausewarden proxy` starts)"
    )
    print(
        GUIDE.format(
            pem=pem,
            cer=confdir / "mitmproxy-ca-cert.cer",
            key=confdir / "mitmproxy-ca.pem",
            state=state,
        )
    )
    return 0
