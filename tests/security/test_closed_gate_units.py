"""The closed gate's judgements, on mitmproxy's own flow objects: which destination addresses are
refused, and who the client is behind a front (issue 16, section 2)."""

import ipaddress

import pytest
from mitmproxy.test import tflow

from proxy_addon.client_gate import kind_of
from proxy_addon.clients import Clients, as_address, parse_networks
from proxy_addon.destination_guard import refused_because


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address asked for, not bound
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("169.254.10.1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fe80::1", "link-local"),
    ],
)
def test_each_address_of_the_host_itself_is_refused_with_its_reason(address, why):
    parsed = as_address(address)
    assert parsed is not None
    assert why in (refused_because(parsed) or ""), address


@pytest.mark.parametrize("address", ["93.184.216.34", "10.231.0.2", "2001:db8::1", "192.0.2.99"])
def test_other_machines_are_not_refused(address):
    parsed = as_address(address)
    assert parsed is not None and refused_because(parsed) is None


def test_refused_clients_are_counted_by_kind_never_by_address():
    assert kind_of(ipaddress.ip_address("2a00:1450::1")) == "global IPv6"
    assert kind_of(ipaddress.ip_address("8.8.4.4")) == "public IPv4"
    assert kind_of(ipaddress.ip_address("10.1.2.3")) == "private IPv4"
    assert kind_of(None) == "unnamed (behind the front)"


def _flow(peer: str, forwarded: list[str] | None = None, method: str = "GET"):  # type: ignore[no-untyped-def]
    flow = tflow.tflow()
    flow.client_conn.peername = (peer, 50000)
    flow.request.method = method
    for value in forwarded or []:
        flow.request.headers.add("X-Forwarded-For", value)
    return flow


def test_without_a_front_the_peer_is_the_client_and_its_header_is_ignored():
    clients = Clients()
    judged = clients.of_flow(_flow("127.0.0.1", ["10.1.2.3"]))
    assert judged.address == ipaddress.ip_address("127.0.0.1") and judged.on_proxy_host
    network = clients.of_flow(_flow("10.9.9.9", ["127.0.0.1"]))
    assert network.address == ipaddress.ip_address("10.9.9.9") and not network.on_proxy_host


def test_behind_a_front_only_its_last_hop_names_the_client_and_never_the_host_itself():
    clients = Clients()
    clients.fronts = parse_networks("clausewarden_fronts", "127.0.0.1")
    forged_first = clients.of_flow(_flow("127.0.0.1", ["127.0.0.1, 10.1.2.3"]))
    assert forged_first.address == ipaddress.ip_address("10.1.2.3")
    two_lines = clients.of_flow(_flow("127.0.0.1", ["127.0.0.1", "203.0.113.9"]))
    assert two_lines.address == ipaddress.ip_address("203.0.113.9")
    said_loopback = clients.of_flow(_flow("127.0.0.1", ["127.0.0.1"]))
    assert not said_loopback.on_proxy_host  # behind a front, never the proxy host itself
    unnamed = clients.of_flow(_flow("127.0.0.1"))
    assert unnamed.address is None and not unnamed.on_proxy_host


def test_inside_a_fronts_tunnel_the_client_named_at_the_connect_stays():
    clients = Clients()
    clients.fronts = parse_networks("clausewarden_fronts", "127.0.0.1")
    connect = _flow("127.0.0.1", ["203.0.113.9"], method="CONNECT")
    assert clients.of_flow(connect).address == ipaddress.ip_address("203.0.113.9")
    inside = _flow("127.0.0.1", ["10.1.2.3"])  # the client's own header, inside TLS
    inside.client_conn = connect.client_conn
    assert clients.of_flow(inside).address == ipaddress.ip_address("203.0.113.9")
    clients.forget(connect.client_conn)
    assert clients.of_flow(inside).address == ipaddress.ip_address("10.1.2.3")


def test_a_mistyped_network_is_one_line_naming_the_option():
    with pytest.raises(Exception, match=r"clausewarden_allowed_clients: '10.0.0.0/33' is not"):
        parse_networks("clausewarden_allowed_clients", "10.0.0.0/8, 10.0.0.0/33")
