"""Uploads through a real proxy never sit in its memory: a body longer than the proxy holds is
decided on its headers, then streamed (sent on) or never read (held). The proxy's peak memory
(VmHWM of the mitmdump process) is read from /proc before and after."""

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.proxy import Proxy, outbox_events, start_proxy
from tests.support.upstream import Sink

MB = 1 << 20
BOUND = 96 * MB  # the growth allowed: mitmproxy's buffers, not the upload (256 MB here)


def peak_rss(proxy: Proxy) -> int:
    for line in Path(f"/proc/{proxy.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


def chunks(total: int) -> Iterator[bytes]:
    block = b"x" * MB
    for _ in range(total // MB):
        yield block


def upload(proxy: Proxy, url: str, size: int, headers: dict[str, str]) -> int | None:
    """POST `size` bytes to `url` through the proxy; the status, or None if the proxy stopped
    reading it (a held upload is never read: it stalls until the proxy's idle timeout)."""
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        conn.request(
            "POST", url, body=chunks(size), headers={**headers, "Content-Length": str(size)}
        )
        response = conn.getresponse()
        response.read()
        return response.status
    except (TimeoutError, ConnectionError, http.client.RemoteDisconnected):
        return None
    finally:
        conn.close()


@pytest.fixture(scope="module")
def sink() -> Iterator[Sink]:
    running = Sink()
    yield running
    running.close()


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, sink) -> Iterator[Proxy]:
    running = start_proxy(tmp_path_factory.mktemp("uploads"), sink.port)
    yield running
    running.stop()


SCRIPT = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty", "Content-Type": "video/mp4"}


def test_an_upload_the_policy_lets_through_is_streamed_not_kept(proxy, sink):
    before = peak_rss(proxy)
    status = upload(proxy, "http://upload.youtube.com/upload/studio", 256 * MB, SCRIPT)
    assert status == 200
    assert sink.received[-1][1] == 256 * MB  # every byte reached the site
    assert peak_rss(proxy) - before < BOUND


def test_a_held_act_with_a_long_body_is_never_read_nor_sent(proxy, sink):
    sent_before = len(sink.received)
    before = peak_rss(proxy)
    # A video posted during working time (clause 7): held, whatever its length.
    status = upload(
        proxy, "http://www.youtube.com/youtubei/v1/upload/createvideo", 256 * MB, SCRIPT
    )
    assert status is None  # closed unread: answering would mean reading it all first
    assert len(sink.received) == sent_before  # nothing reached the site
    assert peak_rss(proxy) - before < BOUND
    held = [e for e in outbox_events(proxy) if e["platform"] == "youtube" and e["action"] == "post"]
    assert held and held[-1]["outcome"] == "warn"


def test_an_act_endpoints_long_body_is_held_as_the_act_it_may_be(proxy, sink):
    # Facebook's GraphQL endpoint is a post or a read by its body: too long to read, it is held.
    sent_before = len(sink.received)
    headers = {**SCRIPT, "Content-Type": "application/x-www-form-urlencoded"}
    status = upload(proxy, "http://www.facebook.com/api/graphql/", 8 * MB, headers)
    assert status is None
    assert len(sink.received) == sent_before
