"""Helpers for the captive-portal tests: a configuration whose guest devices are on loopback
addresses of their own, and a plain-http request through the proxy from one such address."""

import http.client
import shutil
import socket
from pathlib import Path

import yaml

from policy.configdir import DEFAULT_CONFIG_DIR
from tests.support.proxy import TIMEOUT, Proxy


def groups_config(folder: Path, **networks: list[str]) -> Path:
    """config/ copied to `folder` with these networks for these device groups (by id)."""
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    path = folder / "device_groups.yaml"
    groups = yaml.safe_load(path.read_text(encoding="utf-8"))
    for group in groups["device_groups"]:
        if group["id"].replace("-", "_") in networks:
            group["networks"] = networks[group["id"].replace("-", "_")]
    path.write_text(yaml.safe_dump(groups, sort_keys=False), encoding="utf-8")
    return folder


class SourceConnection(http.client.HTTPConnection):
    """An HTTP connection to the proxy from a chosen loopback address (a device of its own)."""

    def __init__(self, port: int, source: str) -> None:
        super().__init__("127.0.0.1", port, timeout=TIMEOUT, source_address=(source, 0))

    def connect(self) -> None:
        self.sock = socket.create_connection(
            (self.host, self.port), self.timeout, self.source_address
        )


def plain(
    proxy: Proxy, source: str, url: str, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """`method url` (http://...) through the proxy from `source`: status, headers, body."""
    conn = SourceConnection(proxy.port, source)
    try:
        conn.request(method, url, headers={"Accept": "*/*"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def accept_url(page: bytes) -> str:
    """The notice's accept form's action (a path with the device's token)."""
    return page.decode().split('<form method="post" action="', 1)[1].split('"', 1)[0]
