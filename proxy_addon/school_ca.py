"""The CA that devices trust, named for the school ("ClauseWarden CA, Wycliffe CE Primary
School"), not mitmproxy's default "mitmproxy": that name is what staff see in their certificate
lists and what docs/devices.md tells them to trust.

mitmproxy makes its CA on its first start when `<confdir>/mitmproxy-ca.pem` is missing, before
any addon runs, so `clausewarden proxy` makes it here first, in the files and formats mitmproxy
reads. An existing CA is never replaced silently: every device trusts it. `renew_school_ca`
(`clausewarden ca --renew`) moves the old files aside and makes a new one.
"""

from datetime import datetime
from pathlib import Path

from mitmproxy.certs import CertStore

BASENAME = "mitmproxy"  # mitmproxy reads <confdir>/mitmproxy-ca.pem and its siblings
KEY_FILE = f"{BASENAME}-ca.pem"
ORGANIZATION = "ClauseWarden"
KEY_SIZE = 2048  # mitmproxy's default key_size option, which its leaf certificates use too
_CN_LIMIT = 64  # X.509's upper bound for a common name (RFC 5280)


def ca_common_name(school: str) -> str:
    name = f"ClauseWarden CA, {school.strip()}" if school.strip() else "ClauseWarden CA"
    return name[:_CN_LIMIT].rstrip()


def make_school_ca(confdir: Path, school: str) -> bool:
    """Make the school's CA in `confdir` unless one is there; True when it was made."""
    if (confdir / KEY_FILE).exists():
        return False
    confdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    # create_store writes the key files under a 0077 umask itself.
    CertStore.create_store(
        confdir, BASENAME, KEY_SIZE, organization=ORGANIZATION, cn=ca_common_name(school)
    )
    return True


def renew_school_ca(confdir: Path, school: str, now: datetime) -> Path:
    """Move the CA's files to `confdir/replaced-<time>/` and make a new one; the folder moved to."""
    aside = confdir / f"replaced-{now.strftime('%Y%m%dT%H%M%S')}"
    aside.mkdir(mode=0o700)
    for path in confdir.glob(f"{BASENAME}-*"):
        path.rename(aside / path.name)
    make_school_ca(confdir, school)
    return aside
