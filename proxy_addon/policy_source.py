"""Where the policy comes from: the service's bundle, its last good copy on disk, or the
configuration folder (reloaded when its files change); and which hosts mitmproxy may decrypt.

With a service, the proxy starts on the last good copy while the service's bundle is fetched
(off the event loop's critical path, never blocking it); flows wait for that first answer, so
nothing is decided on a stale policy that the service was about to replace.
"""

import asyncio
import gc
import logging
from pathlib import Path
from typing import Any

from mitmproxy import ctx, exceptions, http, tls

from policy.bundle import compile_bundle
from policy.captive import PROBE_HOSTS
from policy.configdir import load_config_dir
from policy.engine import Policy
from policy.errors import ConfigError
from proxy_addon.headers import injections
from proxy_addon.intercept import allow_hosts_pattern
from proxy_addon.service_client import BundleFetcher, ServiceError
from proxy_addon.service_clock import correction
from proxy_addon.shared import Shared, parse_seconds, refuse

log = logging.getLogger("clausewarden")

SOURCE_OPTIONS = {
    "clausewarden_config",
    "clausewarden_service",
    "clausewarden_token_file",
    "clausewarden_data_dir",
}
Stamp = tuple[tuple[str, int, int], ...]


def config_stamp(folder: Path) -> Stamp:
    """Names, times and sizes of the folder's YAML files: a change means reload."""
    try:
        return tuple(
            sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.glob("*.yaml"))
        )
    except OSError:
        return ()


def compile_folder(folder: Path | None) -> dict[str, Any]:
    """The bundle of a configuration folder (None: the embedded config/); raises ConfigError."""
    return compile_bundle(load_config_dir(folder))


class PolicySource:
    name = "clausewarden_policy"

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.config_dir: Path | None = None
        self.config_stamp: Stamp = ()
        self._refresher: asyncio.Task[None] | None = None

    def load(self, loader: Any) -> None:
        loader.add_option(
            "clausewarden_config",
            str,
            "",
            "ClauseWarden configuration folder (policy, platforms, rules ...). Empty: the "
            "embedded default config/ (or the service's bundle when a service is set).",
        )
        loader.add_option(
            "clausewarden_refresh",
            str,
            "30",
            "Seconds between checks for a new policy (service bundle or configuration folder).",
        )

    def configure(self, updated: set[str]) -> None:
        if "clausewarden_refresh" in updated:
            self.shared.refresh_seconds = parse_seconds(
                "clausewarden_refresh", ctx.options.clausewarden_refresh
            )
        if updated & SOURCE_OPTIONS:
            self._setup()

    def _setup(self) -> None:
        shared = self.shared
        option = ctx.options.clausewarden_config
        if option and not Path(option).is_dir():
            raise refuse(f"clausewarden_config: {option!r} is not a folder")
        self.config_dir = Path(option) if option else None
        if shared.settling is not None:
            shared.settling.cancel()
            shared.settling = None
        if not shared.service_url:
            shared.source = None
            self._install(self._folder_bundle())
            return
        shared.source = BundleFetcher(shared.service_url, shared.token, shared.data_dir)
        last = shared.source.last_known_good()
        if last is not None:
            self._install(last)  # in force until the service answers
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a synchronous test): the service is not asked now
            if last is None:
                log.warning("no last good bundle on disk; using the configuration folder")
                self._install(self._folder_bundle())
            return
        first = self._first_fetch(shared.source, have_last=last is not None)
        shared.settling = loop.create_task(first, name="clausewarden-first-bundle")

    def _folder_bundle(self) -> dict[str, Any]:
        try:
            self.config_stamp = config_stamp(self.config_dir) if self.config_dir else ()
            return compile_folder(self.config_dir)
        except ConfigError as exc:
            raise refuse(self._problems(exc)) from exc

    def _problems(self, exc: ConfigError) -> str:
        return (
            f"clausewarden_config: {str(self.config_dir or 'config/')!r} has problems: "
            + "; ".join(str(p) for p in exc.problems)
        )

    def _install(self, bundle: dict[str, Any]) -> None:
        try:
            policy = Policy.from_bundle(bundle)
        except ValueError as exc:
            raise refuse(f"clausewarden_config: {exc}") from exc
        self._use(policy)

    def _use(self, policy: Policy) -> None:
        """Put `policy` in force, with its header injections and the hosts it may decrypt."""
        shared = self.shared
        shared.policy = policy
        shared.injections = injections(policy.settings)
        shared.policy_error = None
        # The captive portal's hosts too: in transparent mode their plain http is read, not
        # passed on unread (proxy_addon/captive.py; their TLS is still tunnelled by the warden).
        captive_host = getattr(ctx.options, "clausewarden_captive_host", "")
        extra = {*shared.injections, *PROBE_HOSTS, *([captive_host] if captive_host else [])}
        pattern = allow_hosts_pattern(policy.bundle, extra)
        if list(ctx.options.allow_hosts) != [pattern]:
            ctx.options.update(allow_hosts=[pattern])  # type: ignore[no-untyped-call]
        # The policy's many long-lived objects need no garbage collection passes; the last
        # policy (unfrozen first) is collected now, once, not scanned on every pass.
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    async def _first_fetch(self, source: BundleFetcher, have_last: bool) -> None:
        """The service's bundle; else the last good copy (already in force); else the folder."""
        shared = self.shared
        try:
            try:
                try:
                    bundle = await source.fetch()
                finally:
                    self._follow_service_clock(source)
                if bundle is not None:
                    policy = Policy.from_bundle(bundle)
                    await asyncio.to_thread(source.save, bundle)
                    log.info("policy bundle %s from %s", bundle.get("version"), shared.service_url)
                    self._use(policy)
                    return
            except (ServiceError, ValueError) as exc:
                log.warning("cannot fetch the policy bundle (%s); using the last good copy", exc)
            if have_last:
                return
            log.warning("no last good bundle on disk; using the configuration folder")
            try:
                self._install(await asyncio.to_thread(self._folder_bundle))
            except exceptions.OptionsError as exc:
                log.error("%s", exc)
                if shared.policy is None:  # nothing to enforce: refuse to run, as at startup
                    ctx.master.shutdown()
        except Exception:
            log.exception("the policy bundle could not be put in force")
        finally:
            if shared.settling is asyncio.current_task():
                shared.settling = None

    # --- lifecycle and hooks ---------------------------------------------------------------

    def running(self) -> None:
        loop = asyncio.get_running_loop()
        self._refresher = loop.create_task(self._refresh_loop(), name="clausewarden-refresh")

    async def done(self) -> None:
        await self.shared.settled()  # a bundle being fetched is saved before the proxy stops
        if self._refresher is not None:
            self._refresher.cancel()
            self._refresher = None

    async def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        await self._in_force()  # the Warden then decides on the policy in force

    async def request(self, flow: http.HTTPFlow) -> None:
        await self._in_force()

    async def _in_force(self) -> None:
        """Wait for the first bundle only when no policy is in force yet (a first start): with
        the last good copy in force, a service that accepts and never answers holds up nobody's
        browsing (the copy is replaced when the service's bundle arrives)."""
        if self.shared.policy is None:
            await self.shared.settled()

    # --- reload ----------------------------------------------------------------------------

    async def _refresh_loop(self) -> None:
        await self.shared.settled()
        while True:
            await asyncio.sleep(self.shared.refresh_seconds)
            try:
                await self.refresh()
            except Exception:
                log.exception("policy refresh failed; keeping the policy in force")

    async def refresh(self) -> bool:
        """Look for a new policy; install it if it is good, else keep the last good and say why."""
        bundle = await self._candidate()
        return bundle is not None and await self._adopt(bundle)

    async def _candidate(self) -> dict[str, Any] | None:
        """A new bundle from the service or the changed configuration folder, if there is one."""
        source = self.shared.source
        if source is not None:
            try:
                return await source.fetch()
            except ServiceError as exc:
                log.warning("cannot refresh the policy bundle (%s); keeping %s", exc, self._v())
                return None
            finally:
                self._follow_service_clock(source)
        folder = self.config_dir
        if folder is None:
            return None
        stamp = await asyncio.to_thread(config_stamp, folder)
        if stamp == self.config_stamp:
            return None
        self.config_stamp = stamp
        try:
            return await asyncio.to_thread(compile_folder, folder)
        except ConfigError as exc:
            self.shared.policy_error = "; ".join(str(p) for p in exc.problems)
            log.error(
                "the configuration has problems; keeping the last good policy %s: %s",
                self._v(),
                self.shared.policy_error,
            )
            return None

    async def _adopt(self, bundle: dict[str, Any]) -> bool:
        try:
            policy = Policy.from_bundle(bundle)
        except ValueError as exc:
            self.shared.policy_error = str(exc)
            log.error("the new policy is not usable; keeping %s: %s", self._v(), exc)
            return False
        if self.shared.source is not None:
            await asyncio.to_thread(self.shared.source.save, bundle)
        self._use(policy)  # options change on the event loop, never in a thread
        log.info("policy %s in force", policy.version)
        return True

    def _follow_service_clock(self, source: BundleFetcher) -> None:
        shared = self.shared
        shared.clock_offset = correction(shared.clock_offset, source.clock_offset)

    def _v(self) -> str:
        return self.shared.policy.version if self.shared.policy else "none"
