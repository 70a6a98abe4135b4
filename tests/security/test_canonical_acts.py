"""Attacks on act recognition (issue 16 §3) against a real `clausewarden proxy` (mitmdump): a
page's script sends an act in a form the site still understands (a doubled slash, a capital, an
escaped letter, another method, a chained or unknown encoding, a name beyond the look) and the
proxy must hold it as the plain form is held; ordinary requests still pass."""

import gzip
import http.client
import json
import zlib
from collections.abc import Iterator
from typing import NamedTuple

import brotli  # type: ignore[import-untyped]
import pytest

from tests.support.net import stop
from tests.support.proxy import Proxy, start_proxy
from tests.support.upstream import Upstream

SCRIPT = {  # what Chromium sends for a page's fetch() to its own origin
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Dest": "empty",
    "Sec-Fetch-Site": "same-origin",
    "Accept": "application/json",
}
JSON_BODY = {**SCRIPT, "Content-Type": "application/json"}
FORM_BODY = {**SCRIPT, "Content-Type": "application/x-www-form-urlencoded"}
LINKEDIN, FACEBOOK = "www.linkedin.com", "www.facebook.com"
MESSAGE = json.dumps({"text": "hello parent"}).encode()
POST_FORM = b"av=1&fb_api_req_friendly_name=ComposerStoryCreateMutation&variables=%7B%7D"
PADDING = b"pad=" + b"a" * 70_000 + b"&"


class Variant(NamedTuple):
    name: str
    host: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data)


VARIANTS = [
    # LinkedIn messages: the path and query as the site reads them.
    Variant(
        "doubled leading slash",
        LINKEDIN,
        "POST",
        "//voyager/api/messaging/conversations?action=create",
        JSON_BODY,
        MESSAGE,
    ),
    Variant(
        "doubled inner slash",
        LINKEDIN,
        "POST",
        "/voyager//api/messaging/conversations?action=create",
        JSON_BODY,
        MESSAGE,
    ),
    Variant(
        "capital letter",
        LINKEDIN,
        "POST",
        "/Voyager/api/messaging/conversations?action=create",
        JSON_BODY,
        MESSAGE,
    ),
    Variant(
        "escaped letter in the path",
        LINKEDIN,
        "POST",
        "/voyager/api/%76oyagerMessagingDashMessengerMessages?action=createMessage",
        JSON_BODY,
        MESSAGE,
    ),
    Variant(
        "dot segment",
        LINKEDIN,
        "POST",
        "/voyager/./api/messaging/conversations?action=create",
        JSON_BODY,
        MESSAGE,
    ),
    Variant(
        "escaped dot segments",
        LINKEDIN,
        "POST",
        "/voyager/api/x/%2e%2E/messaging/conversations/%2e?action=create",
        JSON_BODY,
        MESSAGE,
    ),
    Variant(
        "segment parameter",
        LINKEDIN,
        "POST",
        "/voyager/api/messaging/conversations;x=1?action=create",
        JSON_BODY,
        MESSAGE,
    ),
    Variant(
        "escaped letter in the query",
        LINKEDIN,
        "POST",
        "/voyager/api/voyagerMessagingDashMessengerMessages?action=%63reateMessage",
        JSON_BODY,
        MESSAGE,
    ),
    Variant(
        "capital query key",
        LINKEDIN,
        "POST",
        "/voyager/api/messaging/conversations?ACTION=create",
        JSON_BODY,
        MESSAGE,
    ),
    Variant(
        "PUT",
        LINKEDIN,
        "PUT",
        "/voyager/api/messaging/conversations?action=create",
        JSON_BODY,
        MESSAGE,
    ),
    Variant(
        "PATCH",
        LINKEDIN,
        "PATCH",
        "/voyager/api/messaging/conversations?action=create",
        JSON_BODY,
        MESSAGE,
    ),
    Variant(
        "lower-case method",
        LINKEDIN,
        "post",
        "/voyager/api/messaging/conversations?action=create",
        JSON_BODY,
        MESSAGE,
    ),
    Variant(
        "GET with X-HTTP-Method-Override",
        LINKEDIN,
        "GET",
        "/voyager/api/messaging/conversations?action=create",
        {**JSON_BODY, "X-HTTP-Method-Override": "POST"},
        MESSAGE,
    ),
    Variant(
        "GET with X-Method-Override",
        LINKEDIN,
        "GET",
        "/voyager/api/messaging/conversations?action=create",
        {**SCRIPT, "X-Method-Override": "post"},
        None,
    ),
    Variant(
        "GET with X-HTTP-Method-Override sent twice",
        LINKEDIN,
        "GET",
        "/voyager/api/messaging/conversations?action=create",
        {**SCRIPT, "X-HTTP-Method-Override": "GET", "x-http-method-override": "POST"},
        None,
    ),
    Variant(
        "GET with a _method parameter",
        LINKEDIN,
        "GET",
        "/voyager/api/messaging/conversations?action=create&_method=POST",
        SCRIPT,
        None,
    ),
    # Facebook posts: the operation name as the site decodes the body.
    Variant(
        "escaped letter in a form body",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        FORM_BODY,
        b"av=1&fb_api_req_friendly_name=Composer%53toryCreateMutation&variables=%7B%7D",
    ),
    Variant(
        "JSON escape in a JSON body",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        JSON_BODY,
        b'{"fb_api_req_friendly_name": "Composer\\u0053toryCreateMutation", "variables": {}}',
    ),
    Variant(
        "JSON escape inside a form field",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        FORM_BODY,
        b"av=1&variables=%7B%22op%22%3A%22Composer%5Cu0053toryCreateMutation%22%7D",
    ),
    Variant(
        "JSON escape in a multipart part",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        {**SCRIPT, "Content-Type": "multipart/form-data; boundary=XyZ"},
        b'--XyZ\r\nContent-Disposition: form-data; name="variables"\r\n\r\n'
        b'{"op": "Composer\\u0053toryCreateMutation"}\r\n--XyZ--\r\n',
    ),
    Variant(
        "name after 64 kB of padding",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        FORM_BODY,
        PADDING + POST_FORM,
    ),
    Variant(
        "Content-Encoding: gzip, identity",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        {**FORM_BODY, "Content-Encoding": "gzip, identity"},
        _gzip(POST_FORM),
    ),
    Variant(
        "Content-Encoding: gzip, gzip",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        {**FORM_BODY, "Content-Encoding": "gzip, gzip"},
        _gzip(_gzip(POST_FORM)),
    ),
    Variant(
        "Content-Encoding: deflate, br",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        {**FORM_BODY, "Content-Encoding": "deflate, br"},
        brotli.compress(zlib.compress(POST_FORM)),
    ),
    Variant(
        "a second gzip member",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        {**FORM_BODY, "Content-Encoding": "gzip"},
        _gzip(b"av=1&") + _gzip(POST_FORM),
    ),
    Variant(
        "an unknown encoding",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        {**FORM_BODY, "Content-Encoding": "x-unknown"},
        POST_FORM,
    ),
    Variant(
        "a compressed body larger than the look",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        {**FORM_BODY, "Content-Encoding": "gzip"},
        _gzip(PADDING + POST_FORM),
    ),
    Variant(
        "GraphQL batch",
        FACEBOOK,
        "POST",
        "/api/graphqlbatch/",
        FORM_BODY,
        b"batch_name=MessengerGraphQLThreadlistFetcher&queries="
        b"%7B%22o0%22%3A%7B%22doc_id%22%3A%221%22%2C%22query_params%22%3A%7B%22"
        b"fb_api_req_friendly_name%22%3A%22ComposerStoryCreateMutation%22%7D%7D%7D",
    ),
    Variant(
        "a Mastodon edit as a POST with _method=PUT in its form body",
        "mastodon.social",
        "POST",
        "/api/v1/statuses/123",
        FORM_BODY,
        b"status=edited&_method=PUT",
    ),
    Variant(
        "doubled trailing slash", FACEBOOK, "POST", "/messages/send//", FORM_BODY, b"body=hello"
    ),
]

ORDINARY = [
    Variant(
        "a LinkedIn feed read", LINKEDIN, "GET", "/voyager/api/feed/updatesV2?q=feed", SCRIPT, None
    ),
    Variant(
        "a Facebook GraphQL read",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        FORM_BODY,
        b"av=1&fb_api_req_friendly_name=CometNotificationsDropdownQuery&variables=%7B%7D",
    ),
    Variant(
        "a gzip-compressed Facebook GraphQL read",
        FACEBOOK,
        "POST",
        "/api/graphql/",
        {**FORM_BODY, "Content-Encoding": "gzip, identity"},
        _gzip(b"av=1&fb_api_req_friendly_name=CometNotificationsDropdownQuery"),
    ),
    Variant(
        "an upload elsewhere in an unknown encoding",
        FACEBOOK,
        "POST",
        "/ajax/bz",
        {**FORM_BODY, "Content-Encoding": "x-unknown"},
        PADDING + POST_FORM,
    ),
]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Proxy, Upstream]]:
    upstream = Upstream()
    proxy = start_proxy(tmp_path_factory.mktemp("canonical"), upstream.port, None)
    yield proxy, upstream
    stop(proxy.process)
    upstream.close()


def send(proxy: Proxy, device: str, variant: Variant) -> int:
    conn = http.client.HTTPConnection(
        "127.0.0.1", proxy.port, timeout=20, source_address=(device, 0)
    )
    conn.putrequest(
        variant.method, f"http://{variant.host}{variant.path}", skip_accept_encoding=True
    )
    for name, value in variant.headers.items():
        conn.putheader(name, value)
    body = variant.body or b""
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def reached(upstream: Upstream, marker: bytes) -> int:
    return sum(marker in r for r in upstream.requests)


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_an_act_in_another_form_is_held_as_the_plain_form_is(running, variant):
    proxy, upstream = running
    device = f"127.0.1.{VARIANTS.index(variant) + 1}"
    before = len(upstream.requests)
    status = send(proxy, device, variant)
    assert (status, len(upstream.requests) - before) == (403, 0), variant.name


@pytest.mark.parametrize("variant", ORDINARY, ids=[v.name for v in ORDINARY])
def test_ordinary_requests_still_reach_the_platform(running, variant):
    proxy, upstream = running
    device = f"127.0.2.{ORDINARY.index(variant) + 1}"
    before = len(upstream.requests)
    assert send(proxy, device, variant) == 200
    assert len(upstream.requests) - before == 1
