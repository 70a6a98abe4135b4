"""ClauseWarden as mitmproxy addons: warns with the clause, recognises school accounts, records
anonymised events in a durable outbox and ships them to the service.

Run:  mitmdump -s proxy_addon/addon.py --set connection_strategy=lazy --set flow_detail=0
      (or `clausewarden proxy`, which does exactly that). Options: `mitmdump --options`.

Each addon does one job and they share one `Shared` object; mitmproxy calls them in this order,
so the sensor's settings are read before the policy, and the proxy's own pages are answered
before the warden decides.
"""

from policy.respond import TICKET_SECONDS
from proxy_addon.ca_page import CaPage
from proxy_addon.captive import CaptivePortal
from proxy_addon.client_gate import ClientGate
from proxy_addon.clients import Clients
from proxy_addon.destination_guard import DestinationGuard
from proxy_addon.held import HeldActs
from proxy_addon.own_host_guard import OwnHostGuard
from proxy_addon.own_pages import OwnPages
from proxy_addon.pac_server import PacServer
from proxy_addon.policy_source import PolicySource
from proxy_addon.recorder import Recorder
from proxy_addon.settings import Settings
from proxy_addon.shared import Shared
from proxy_addon.transparent import TransparentHost
from proxy_addon.used_tickets import UsedTickets
from proxy_addon.warden import Warden


def make_addons() -> list[object]:
    """A fresh set of the proxy's addons, sharing one state (a test makes its own)."""
    shared = Shared()
    clients = Clients()  # who a request's client really is (fronts set by ClientGate)
    recorder = Recorder(shared)
    held = HeldActs(answer_seconds=TICKET_SECONDS)  # held acts and the acts Continue opened
    used = UsedTickets(shared)  # tickets and Tell tokens used once, across the host's workers
    return [
        ClientGate(shared, clients),  # only the school's clients are served
        TransparentHost(),  # transparent mode (guest Wi-Fi's port 80): the name asked for
        OwnHostGuard(shared, clients),  # never the proxy host's loopback names, for other machines
        DestinationGuard(shared, clients),  # nor its addresses, judged where it connects
        Settings(shared),  # data folder, secret, service and token, the clock
        PolicySource(shared),  # bundle, last good copy, configuration folder, allow_hosts
        recorder,  # outbox, shipper, pseudonyms, salts
        PacServer(shared),  # /proxy.pac asked of the proxy itself, or on its own host
        CaPage(shared),  # the CA page and its downloads, on the proxy's own host
        used,  # closes its file when mitmproxy stops
        CaptivePortal(shared, clients),  # the captive-portal notice for devices not decrypted
        OwnPages(shared, recorder, held, used),  # /.clausewarden/ on a social host
        Warden(shared, recorder, held),  # the TLS and request hooks
    ]


addons = make_addons()
