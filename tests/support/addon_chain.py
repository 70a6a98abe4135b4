"""The proxy's addons in process, for mitmproxy's taddons: each hook through every addon in
order, as mitmdump calls them, and the shared state read as one proxy."""

import inspect
from typing import Any

from mitmproxy import http, tls
from mitmproxy.test import tflow

from proxy_addon.addon import make_addons
from proxy_addon.policy_source import PolicySource
from proxy_addon.recorder import Recorder
from proxy_addon.shared import Shared

NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}
SHARED = {"outbox", "secret", "data_dir", "policy", "policy_error", "failures", "injections"}


class AddonChain:
    """Register with `taddons.context(chain)`: mitmproxy loads and configures its `addons`.

    Its `request` and `tls_clienthello` are for the test to call (taddons never runs a flow).
    """

    name = "clausewarden_test_chain"

    def __init__(self) -> None:
        self.addons = make_addons()
        self.shared: Shared = self.addons[0].shared  # type: ignore[attr-defined]
        self.source = next(a for a in self.addons if isinstance(a, PolicySource))
        self.recorder = next(a for a in self.addons if isinstance(a, Recorder))

    def __getattr__(self, name: str) -> Any:
        if name in SHARED:
            return getattr(self.shared, name)
        raise AttributeError(name)

    async def _each(self, hook: str, *args: Any) -> None:
        for addon in self.addons:
            method = getattr(addon, hook, None)
            if method is not None:
                result = method(*args)
                if inspect.isawaitable(result):
                    await result

    async def request(self, flow: http.HTTPFlow) -> None:
        await self._each("request", flow)

    async def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        await self._each("tls_clienthello", data)

    async def refresh(self) -> bool:
        return await self.source.refresh()

    def forget_old_salts(self, today: str) -> None:
        self.recorder.forget_old_salts(today)

    async def close(self) -> None:
        """What mitmproxy's `done` does: the first bundle settled, the outbox closed."""
        await self._each("done")


def flow(
    url: str, headers: dict[str, str] | None = None, method: str = "GET", body: bytes = b""
) -> http.HTTPFlow:
    """A request as a browser sends it (a top-level navigation unless `headers` say otherwise)."""
    f = tflow.tflow()
    f.request.method = method
    f.request.url = url
    f.request.headers.clear()
    f.request.headers["Host"] = f.request.host
    for name, value in (NAVIGATE if headers is None else headers).items():
        f.request.headers[name] = value
    f.request.content = body
    return f
