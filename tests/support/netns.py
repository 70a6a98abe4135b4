"""Two network namespaces joined by a veth pair, as a guest Wi-Fi and the server it sends port 80
to: nftables in the server's namespace redirects the guest's port-80 traffic to the proxy's
transparent port (the rule docs/devices.md gives). Nothing touches the machine's own network:
both namespaces are made for the test and deleted after it. Needs root and nft."""

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

SERVER_ADDRESS, GUEST_ADDRESS = "10.99.0.1", "10.99.0.2"
GUEST_NETWORK = "10.99.0.0/24"
FAR_ADDRESS = "203.0.113.80"  # TEST-NET-3: where the guest thinks a probe's host is
NFT_RULES = """\
table ip clausewarden_guest {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    iifname "{interface}" tcp dport 80 redirect to :{port}
  }}
}}
"""


def _run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout


def can_make_namespaces() -> str | None:
    """None when namespaces and nftables can be used here, else why not."""
    if shutil.which("nft") is None or shutil.which("ip") is None:
        return "nft or ip is not installed"
    name = f"cwprobe{uuid.uuid4().hex[:6]}"
    try:
        _run("ip", "netns", "add", name)
        _run("ip", "netns", "exec", name, "nft", "list", "ruleset")
    except (subprocess.CalledProcessError, OSError) as exc:
        return f"cannot make a network namespace with nftables here ({exc})"
    finally:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)
    return None


@dataclass(frozen=True)
class GuestWifi:
    server: str  # namespace names
    guest: str

    def in_server(self, command: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.server, *command]

    def in_guest(self, command: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.guest, *command]

    def wait_listening(self, port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
        """Until something listens on `port` in the server's namespace (the process alive)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert process.poll() is None, "the proxy stopped"
            found = _run(*self.in_server(["ss", "-Htln", f"sport = :{port}"]))
            if found.strip():
                return
            time.sleep(0.2)
        raise AssertionError(f"nothing listened on {port} in {self.server}")


@contextmanager
def guest_wifi(transparent_port: int) -> Iterator[GuestWifi]:
    tag = uuid.uuid4().hex[:6]
    server, guest = f"cws{tag}", f"cwg{tag}"
    server_end, guest_end = f"cws{tag}0", f"cwg{tag}0"
    _run("ip", "netns", "add", server)
    try:
        _run("ip", "netns", "add", guest)
        try:
            _run("ip", "link", "add", server_end, "netns", server, "type", "veth",
                 "peer", "name", guest_end, "netns", guest)  # fmt: skip
            wifi = GuestWifi(server, guest)
            _run(*wifi.in_server(["ip", "link", "set", "lo", "up"]))
            _run(*wifi.in_server(["ip", "addr", "add", f"{SERVER_ADDRESS}/24", "dev", server_end]))
            _run(*wifi.in_server(["ip", "link", "set", server_end, "up"]))
            _run(*wifi.in_guest(["ip", "link", "set", "lo", "up"]))
            _run(*wifi.in_guest(["ip", "addr", "add", f"{GUEST_ADDRESS}/24", "dev", guest_end]))
            _run(*wifi.in_guest(["ip", "link", "set", guest_end, "up"]))
            _run(*wifi.in_guest(["ip", "route", "add", "default", "via", SERVER_ADDRESS]))
            rules = NFT_RULES.format(interface=server_end, port=transparent_port)
            subprocess.run(
                wifi.in_server(["nft", "-f", "-"]), input=rules, text=True, check=True, timeout=30
            )
            yield wifi
        finally:
            subprocess.run(["ip", "netns", "delete", guest], capture_output=True, check=False)
    finally:
        subprocess.run(["ip", "netns", "delete", server], capture_output=True, check=False)
