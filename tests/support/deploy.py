"""Helpers for the deployment tests: run a PAC file's FindProxyForURL in node and in pacparser
(the engine family Windows and macOS evaluate PAC files with), the CLI as an admin types it, a
tiny upstream (chained) proxy."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PAC_CHECK = """
const fs = require("fs");
function isPlainHostName(h) { return h.indexOf(".") < 0; }
eval(fs.readFileSync(process.argv[2], "utf8"));
const hosts = JSON.parse(process.argv[3]);
console.log(JSON.stringify(hosts.map((h) => FindProxyForURL("https://" + h + "/", h))));
"""


# pacparser (Debian's libpacparser1) through ctypes, in its own process: SpiderMonkey's global
# state should not live in the test worker, and a refused file must fail the test, not crash it.
PACPARSER_CHECK = """
import ctypes, json, sys
lib = ctypes.CDLL("libpacparser.so.1")
lib.pacparser_find_proxy.restype = ctypes.c_char_p
if not lib.pacparser_init():
    sys.exit("pacparser: init failed")
with open(sys.argv[1], "rb") as pac:
    if not lib.pacparser_parse_pac_string(pac.read()):
        sys.exit("pacparser refused the PAC file")
answers = []
for host in json.loads(sys.argv[2]):
    answer = lib.pacparser_find_proxy(f"https://{host}/".encode(), host.encode())
    answers.append(answer.decode() if answer is not None else None)
lib.pacparser_cleanup()
print(json.dumps(answers))
"""


def _pac_answers(command: list[str], engine: str) -> list[str]:
    out = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    if out.returncode != 0:
        pytest.fail(f"{engine} could not run the PAC file: {out.stderr.strip()}")
    answers: list[str] = json.loads(out.stdout)
    return answers


def run_pac(text: str, hosts: list[str], folder: Path) -> list[str]:
    """What the PAC file answers for each host, evaluated by node as a browser would and by
    pacparser as Windows and macOS would; the two must agree."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run a PAC file (scripts/setup installs it)")
    pac, script = folder / "check.pac", folder / "check.js"
    pac.write_bytes(text.encode("utf-8"))
    script.write_text(PAC_CHECK, encoding="utf-8")
    by_node = _pac_answers([node, str(script), str(pac), json.dumps(hosts)], "node")
    by_pacparser = _pac_answers(
        [sys.executable, "-c", PACPARSER_CHECK, str(pac), json.dumps(hosts)],
        "pacparser (apt-get install -y libpacparser1)",
    )
    assert by_pacparser == by_node, f"pacparser and node disagree on {hosts}"
    return by_node


def cli(
    *args: str, env: dict[str, str] | None = None, check: bool = True, input: str | None = None
):  # type: ignore[no-untyped-def]
    """`clausewarden ARGS` as a separate process (as an admin types it)."""
    return subprocess.run(
        [sys.executable, "-m", "clausewarden", *args],
        capture_output=True,
        text=True,
        check=check,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        input=input,
        timeout=120,
    )


@dataclass
class ChainedProxy:
    """A tiny HTTP proxy, as a Local Authority's filter would be: CONNECT tunnels (to `tunnel_to`
    whatever was asked, so no test reaches the internet) and absolute-form requests (answered
    itself). Records the request line of each."""

    tunnel_to: tuple[str, int] | None = None
    seen: list[str] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode()
            self.seen.append(line)
            method, target, _ = line.split(" ", 2)
            if method == "CONNECT":
                host, port = self.tunnel_to or target.rsplit(":", 1)
                up_reader, up_writer = await asyncio.open_connection(host, int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await asyncio.gather(
                    _pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True
                )
                return
            body = b"answered by the chained proxy\n"
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Chained: yes\r\n"
                b"Connection: close\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
