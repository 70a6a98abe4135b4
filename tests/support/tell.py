"""Tell the Headteacher through the proxy's own host, as a member of staff's browser sends it:
the form's token, a report posted with it, and the reports a real service kept."""

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from tests.support.net import stop
from tests.support.proxy import FAST, Proxy, recent_working_time, start_proxy
from tests.support.service import Service


def token_of(page: bytes) -> str:
    return page.decode().split('name="token" value="', 1)[1].split('"', 1)[0]


HOST = "clausewarden.internal"
FORM_HEADERS = {
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Site": "same-origin",
    "Content-Type": "application/x-www-form-urlencoded",
    "Accept": "text/html",
}
WHAT = "Zebra-7 parent of a Year 4 pupil messaged me on Instagram about a trip."
NAME = "Quentin Okonkwo-Teacher"
CONTACT = "quentin@wycliffe.example"


def send(proxy: Proxy, token: str, **changes: str) -> tuple[int, bytes]:
    form = {
        "token": token,
        "kind": "contact",
        "platform": "instagram",
        "what_happened": WHAT,
        "name": NAME,
        "contact": CONTACT,
        **changes,
    }
    status, _, body = proxy.get(
        "http", HOST, "/tell", FORM_HEADERS, "POST", urlencode(form).encode()
    )
    return status, body


def stored_reports(service: Service) -> list[dict[str, object]]:
    with sqlite3.connect(service.folder / "clausewarden.db") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM staff_reports")]


@contextmanager
def proxy_with_service(
    folder: Path, upstream_port: int, config: Path | None = None, extra: Sequence[str] = ()
) -> Iterator[tuple[Proxy, Service]]:
    """A real proxy relaying to a real service (its sensor `proxy`), its files in `folder`;
    `config` the configuration folder of both, `extra` more mitmproxy `--set` options."""
    (folder / "service").mkdir()
    service = Service(folder / "service", sensor="proxy", config=config)
    service.start()
    try:
        running = start_proxy(
            folder, upstream_port, config, recent_working_time(), [*FAST, *extra],
            (service.url, service.token_file),
        )  # fmt: skip
    except BaseException:
        service.stop()
        raise
    try:
        yield running, service
    finally:
        stop(running.process)
        service.stop()
