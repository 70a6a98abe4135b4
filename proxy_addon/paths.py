"""Where the proxy keeps its files: light enough for the CLI to import without mitmproxy."""

import os
from pathlib import Path

ADDON_SCRIPT = Path(__file__).with_name("addon.py")  # what `mitmdump -s` loads

OUTBOX_FILE = "outbox.sqlite3"
REFUSED_CLIENTS_FILE = "refused_clients.json"  # client_gate's counts, read by doctor
BUNDLE_FILE = "bundle.json"  # the last good bundle from the service
SALT_FILE = "salt.json"  # this proxy's salt of the day (0600), replaced at local midnight
ALLOWANCE_KEY_FILE = "allowance.key"
DEVICE_KEY_FILE = "device.key"  # the long-lived key of the `stable` privacy level
USED_TICKETS_FILE = "used_tickets.sqlite3"  # tickets used once, shared by the host's workers


def default_data_dir() -> Path:
    """`CLAUSEWARDEN_PROXY_DATA`, else ~/.clausewarden/proxy."""
    return Path(os.environ.get("CLAUSEWARDEN_PROXY_DATA", Path.home() / ".clausewarden" / "proxy"))
