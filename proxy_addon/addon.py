"""ClauseWarden as a mitmproxy addon: warns with the clause, recognises school accounts, records
anonymised events in a durable outbox and ships them to the service.

Run:  mitmdump -s proxy_addon/addon.py --set connection_strategy=lazy --set flow_detail=0
      (or `clausewarden proxy`, which does exactly that). Options: `mitmdump --options`.
"""

import asyncio
import gc
import json
import logging
import os
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mitmproxy import ctx, exceptions, http, tls

from policy.configdir import load_config_dir
from policy.bundle import compile_bundle
from policy.decide import decide, is_top_level_navigation
from policy.engine import PlatformSpec, Policy
from policy.errors import ConfigError
from policy.event import event_from_decision, pseudonym
from policy.facts import Decision
from proxy_addon import allowance, page
from proxy_addon.facts import facts_from_flow
from proxy_addon.headers import Injections, injections
from proxy_addon.intercept import allow_hosts_pattern
from proxy_addon.outbox import Outbox
from proxy_addon.secrets import daily_salt, private_key
from proxy_addon.service_client import BundleSource, ServiceError, post_account_request
from proxy_addon.shipper import Shipper

log = logging.getLogger("clausewarden")

PREFIX = "/.clausewarden/"
TICKET_SECONDS = 3600
SENSOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SETUP_OPTIONS = {
    "clausewarden_config",
    "clausewarden_service",
    "clausewarden_token_file",
    "clausewarden_data_dir",
    "clausewarden_outbox_max",
}


def _refuse(message: str) -> exceptions.OptionsError:
    """mitmproxy's OptionsError (the message names the option and the value)."""
    return exceptions.OptionsError(message)  # type: ignore[no-untyped-call]


def default_data_dir() -> Path:
    return Path(os.environ.get("CLAUSEWARDEN_PROXY_DATA", Path.home() / ".clausewarden" / "proxy"))


def _config_stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        return tuple(
            sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.glob("*.yaml"))
        )
    except OSError:
        return ()


def _safe_return_path(value: str) -> str:
    """Only a path on the same host: never `//elsewhere` or a full URL (no open redirect)."""
    if not value.startswith("/") or value.startswith("//") or value.startswith("/\\"):
        return "/"
    if any(c in value for c in "\r\n\t"):
        return "/"
    return value


class ClauseWarden:
    """The addon: options, policy loading, and the request/TLS hooks. Rules live in policy/."""

    def __init__(self) -> None:
        self.policy: Policy | None = None
        self.injections: Injections = {}
        self.outbox: Outbox | None = None
        self.source: BundleSource | None = None
        self.shipper: Shipper | None = None
        self.secret = b""
        self.data_dir = default_data_dir()
        self.service_url = ""
        self.token = ""
        self.fixed_now: datetime | None = None
        self.failures = 0
        self.dropped_logged = 0
        self.config_dir: Path | None = None
        self.config_stamp: tuple[tuple[str, int, int], ...] = ()
        self.policy_error: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.seconds = {
            "clausewarden_refresh": 30.0,
            "clausewarden_ship_delay": 2.0,
            "clausewarden_ship_max_delay": 60.0,
        }

    # --- options ---------------------------------------------------------------------------

    def load(self, loader: Any) -> None:
        loader.add_option(
            "clausewarden_config",
            str,
            "",
            "ClauseWarden configuration folder (policy, platforms, rules ...). Empty: the "
            "embedded default config/ (or the service's bundle when a service is set).",
        )
        loader.add_option(
            "clausewarden_service",
            str,
            "",
            "URL of the ClauseWarden service (http:// or https://). Empty: run on the "
            "configuration folder alone and keep events in the local outbox.",
        )
        loader.add_option(
            "clausewarden_token_file",
            str,
            "",
            "File holding this sensor's bearer token (needed with clausewarden_service).",
        )
        loader.add_option(
            "clausewarden_sensor",
            str,
            "proxy",
            "This sensor's name, as registered with `clausewarden sensor add NAME`.",
        )
        loader.add_option(
            "clausewarden_data_dir",
            str,
            "",
            "Folder for the outbox, the last good bundle and the proxy's secrets "
            "(default ~/.clausewarden/proxy).",
        )
        loader.add_option(
            "clausewarden_outbox_max",
            int,
            100_000,
            "Most events kept unshipped; past it new events are counted as dropped.",
        )
        loader.add_option(
            "clausewarden_refresh",
            str,
            "30",
            "Seconds between checks for a new policy (service bundle or configuration folder).",
        )
        loader.add_option(
            "clausewarden_ship_delay",
            str,
            "2",
            "Seconds the shipper waits when the outbox is empty (it wakes on each new event).",
        )
        loader.add_option(
            "clausewarden_ship_max_delay",
            str,
            "60",
            "Longest wait, in seconds, between retries when the service cannot be reached.",
        )
        loader.add_option(
            "clausewarden_now",
            str,
            "",
            "For tests and demonstrations only: decide as if it were this ISO-8601 time.",
        )

    def configure(self, updated: set[str]) -> None:
        opts = ctx.options
        if "clausewarden_sensor" in updated and not SENSOR_NAME.match(opts.clausewarden_sensor):
            raise _refuse(
                f"clausewarden_sensor: {opts.clausewarden_sensor!r} is not a sensor name "
                "(letters, digits, '.', '_', '-'; at most 64)"
            )
        if "clausewarden_outbox_max" in updated and opts.clausewarden_outbox_max < 1:
            raise _refuse(
                f"clausewarden_outbox_max: {opts.clausewarden_outbox_max!r} must be at least 1"
            )
        for name in (
            "clausewarden_refresh",
            "clausewarden_ship_delay",
            "clausewarden_ship_max_delay",
        ):
            if name in updated:
                self.seconds[name] = self._parse_seconds(name, getattr(opts, name))
        if "clausewarden_now" in updated:
            self.fixed_now = self._parse_now(opts.clausewarden_now)
        if "clausewarden_service" in updated and opts.clausewarden_service:
            if not re.match(r"^https?://[^/\s]+", opts.clausewarden_service):
                raise _refuse(
                    f"clausewarden_service: {opts.clausewarden_service!r} is not an http(s) URL"
                )
        if updated & SETUP_OPTIONS:
            self._setup()

    @staticmethod
    def _parse_seconds(name: str, value: str) -> float:
        try:
            seconds = float(value)
        except ValueError:
            seconds = 0.0
        if not seconds > 0 or seconds == float("inf"):
            raise _refuse(f"{name}: {value!r} is not a number of seconds more than 0")
        return seconds

    @staticmethod
    def _parse_now(value: str) -> datetime | None:
        if not value:
            return None
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            at = None
        if at is None or at.tzinfo is None:
            raise _refuse(f"clausewarden_now: {value!r} is not an ISO-8601 time with a UTC offset")
        return at

    def _setup(self) -> None:
        opts = ctx.options
        data_dir = Path(opts.clausewarden_data_dir) if opts.clausewarden_data_dir else None
        data_dir = data_dir or default_data_dir()
        try:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise _refuse(
                f"clausewarden_data_dir: {str(data_dir)!r} cannot be created: {exc}"
            ) from exc
        config_dir: Path | None = None
        if opts.clausewarden_config:
            config_dir = Path(opts.clausewarden_config)
            if not config_dir.is_dir():
                raise _refuse(f"clausewarden_config: {opts.clausewarden_config!r} is not a folder")
        token = ""
        if opts.clausewarden_service:
            if not opts.clausewarden_token_file:
                raise _refuse(
                    "clausewarden_token_file: '' (a sensor token file is needed with "
                    f"clausewarden_service {opts.clausewarden_service!r})"
                )
            try:
                token = Path(opts.clausewarden_token_file).read_text().strip().splitlines()[-1]
            except (OSError, IndexError) as exc:
                raise _refuse(
                    f"clausewarden_token_file: {opts.clausewarden_token_file!r} cannot be read "
                    "or is empty"
                ) from exc
        self.data_dir, self.config_dir = data_dir, config_dir
        self.service_url, self.token = opts.clausewarden_service, token
        self.secret = private_key(data_dir / "allowance.key")
        if self.outbox is None or self.outbox.path != data_dir / "outbox.sqlite3":
            if self.outbox is not None:
                self.outbox.close()
            self.outbox = Outbox(data_dir / "outbox.sqlite3", opts.clausewarden_outbox_max)
        self.outbox.max_pending = opts.clausewarden_outbox_max
        self.source = BundleSource(self.service_url, token, data_dir) if self.service_url else None
        self._install(self._initial_bundle())

    def _initial_bundle(self) -> dict[str, Any]:
        if self.source is not None:
            try:
                bundle = self.source.fetch()
                if bundle is not None:
                    Policy.from_bundle(bundle)
                    self.source.save(bundle)
                    log.info("policy bundle %s from %s", bundle.get("version"), self.service_url)
                    return bundle
            except (ServiceError, ValueError) as exc:
                log.warning("cannot fetch the policy bundle (%s); using the last good copy", exc)
            last = self.source.last_known_good()
            if last is not None:
                return last
            log.warning("no last good bundle on disk; using the configuration folder")
        try:
            self.config_stamp = _config_stamp(self.config_dir) if self.config_dir else ()
            return compile_bundle(load_config_dir(self.config_dir))
        except ConfigError as exc:
            raise _refuse(
                f"clausewarden_config: {str(self.config_dir or 'config/')!r} has problems: "
                + "; ".join(str(p) for p in exc.problems)
            ) from exc

    def _install(self, bundle: dict[str, Any]) -> None:
        try:
            policy = Policy.from_bundle(bundle)
        except ValueError as exc:
            raise _refuse(f"clausewarden_config: {exc}") from exc
        self._use(policy)

    def _use(self, policy: Policy) -> None:
        """Put `policy` in force, with its header injections and the hosts it may decrypt."""
        self.policy = policy
        self.injections = injections(policy.settings)
        self.policy_error = None
        pattern = allow_hosts_pattern(policy.bundle, self.injections)
        if list(ctx.options.allow_hosts) != [pattern]:
            ctx.options.update(allow_hosts=[pattern])  # type: ignore[no-untyped-call]
        # The policy's many long-lived objects need no garbage collection passes; the last
        # policy (unfrozen first) is collected now, once, not scanned on every pass.
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    # --- lifecycle -------------------------------------------------------------------------

    def running(self) -> None:
        loop = asyncio.get_running_loop()
        if ctx.options.connection_strategy != "lazy":
            log.warning("connection_strategy is not lazy: warning pages will wait for upstream")
        self._tasks.append(loop.create_task(self._refresh_loop(), name="clausewarden-refresh"))
        if self.service_url and self.outbox is not None:
            self.shipper = Shipper(
                self.outbox,
                self.service_url,
                self.token,
                idle_delay=self.seconds["clausewarden_ship_delay"],
                max_delay=self.seconds["clausewarden_ship_max_delay"],
                base_delay=min(0.5, self.seconds["clausewarden_ship_max_delay"]),
            )
            self.shipper.start()

    async def done(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if self.shipper is not None:
            await self.shipper.stop()
            self.shipper = None
        if self.outbox is not None:
            self.outbox.close()
            self.outbox = None

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.seconds["clausewarden_refresh"])
            try:
                if self.outbox is not None and self.policy is not None:
                    today = self.policy.working_time.local(self.now()).date().isoformat()
                    await asyncio.to_thread(self.outbox.prune, today)
                    await asyncio.to_thread(self.forget_old_salts, today)
                bundle = await asyncio.to_thread(self._candidate)
                if bundle is not None:
                    self._adopt(bundle)  # options change on the event loop, never in a thread
            except Exception:
                log.exception("policy refresh failed; keeping the policy in force")

    def forget_old_salts(self, today: str) -> None:
        """A day's salt is destroyed once the day is over: the local one and the bundle's copy."""
        local = self.data_dir / "salt.json"
        try:
            if json.loads(local.read_text()).get("date") != today:
                local.unlink()
        except (OSError, ValueError, AttributeError):
            pass
        if self.source is None:
            return
        saved = self.source.last_known_good()
        privacy = (saved or {}).get("privacy") or {}
        if saved is not None and privacy.get("salt") and privacy.get("salt_date") != today:
            saved["privacy"] = {k: v for k, v in privacy.items() if k != "salt"}
            self.source.save(saved)

    def refresh(self) -> bool:
        """Look for a new policy; install it if it is good, else keep the last good and say why."""
        bundle = self._candidate()
        return bundle is not None and self._adopt(bundle)

    def _candidate(self) -> dict[str, Any] | None:
        """A new bundle from the service or the changed configuration folder, if there is one."""
        if self.source is not None:
            try:
                return self.source.fetch()
            except ServiceError as exc:
                log.warning("cannot refresh the policy bundle (%s); keeping %s", exc, self._v())
                return None
        if self.config_dir is None:
            return None
        stamp = _config_stamp(self.config_dir)
        if stamp == self.config_stamp:
            return None
        self.config_stamp = stamp
        try:
            return compile_bundle(load_config_dir(self.config_dir))
        except ConfigError as exc:
            self.policy_error = "; ".join(str(p) for p in exc.problems)
            log.error(
                "the configuration has problems; keeping the last good policy %s: %s",
                self._v(),
                self.policy_error,
            )
            return None

    def _adopt(self, bundle: dict[str, Any]) -> bool:
        try:
            policy = Policy.from_bundle(bundle)
        except ValueError as exc:
            self.policy_error = str(exc)
            log.error("the new policy is not usable; keeping %s: %s", self._v(), exc)
            return False
        if self.source is not None:
            self.source.save(bundle)
        self._use(policy)
        log.info("policy %s in force", policy.version)
        return True

    def _v(self) -> str:
        return self.policy.version if self.policy else "none"

    # --- hooks -----------------------------------------------------------------------------

    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        """Decrypt only catalogue hosts and header-injection hosts; tunnel everything else."""
        policy = self.policy
        if policy is None:
            return
        try:
            sni = data.client_hello.sni
            if not sni or (
                policy.classifier.platform_for(sni) is None and sni not in self.injections
            ):
                data.ignore_connection = True
        except Exception:
            self._failed("tls_clienthello")

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None or flow.error is not None or not flow.live:
            return
        policy = self.policy
        if policy is None:
            return
        try:
            self._request(flow, policy)
        except Exception:
            self._failed("request")

    def _failed(self, hook: str) -> None:
        self.failures += 1
        if self.failures == 1 or self.failures % 1000 == 0:
            log.exception(
                "ClauseWarden %s failed (%d so far); passing the flow", hook, self.failures
            )

    def _request(self, flow: http.HTTPFlow, policy: Policy) -> None:
        request = flow.request
        host = request.host
        platform_id = policy.classifier.platform_for(host)
        if platform_id is None:
            extra = self.injections.get(host)
            if extra:
                for name, value in extra:
                    request.headers[name] = value
            return
        platform = policy.platforms[platform_id]
        client = flow.client_conn.peername[0] if flow.client_conn.peername else ""
        if request.path.startswith(PREFIX):
            self._internal(flow, policy, platform, client)
            return
        at = self.now()
        allowed = self._take_allowance(flow, platform_id, client, at)
        facts = facts_from_flow(flow, platform, at, client, policy.body_peek_bytes)
        decision = decide(facts, policy)
        outcome = decision.outcome
        if outcome in ("warn", "block") and is_top_level_navigation(facts.method, facts.headers):
            if outcome == "warn" and allowed and decision.allow_continue:
                self._inject(flow, host)
                return
            if decision.record:
                self._record(policy, decision, at, client)
            flow.response = self._warning_page(flow, policy, platform, decision, client, at)
            flow.metadata["clausewarden"] = outcome
            return
        if decision.record:
            self._record(policy, decision, at, client)
        if outcome == "block":
            clauses = ", ".join(decision.clauses) or "-"
            flow.response = http.Response.make(
                403,
                f"Blocked by {policy.school_name}'s Social Media Policy (clause {clauses}).\n",
                {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
            )
            flow.metadata["clausewarden"] = "block"
            return
        self._inject(flow, host)

    def _inject(self, flow: http.HTTPFlow, host: str) -> None:
        extra = self.injections.get(host)
        if extra:
            for name, value in extra:
                flow.request.headers[name] = value

    def now(self) -> datetime:
        return self.fixed_now if self.fixed_now is not None else datetime.now(UTC)

    def _take_allowance(
        self, flow: http.HTTPFlow, platform_id: str, client: str, at: datetime
    ) -> bool:
        """A valid allowance for this platform? (The cookie never goes upstream.)"""
        cookie_header = flow.request.headers.get("cookie", "")
        if allowance.COOKIE not in cookie_header:
            return False
        cookies = flow.request.cookies
        token = cookies.get(allowance.COOKIE, "")
        del cookies[allowance.COOKIE]
        if not cookies:
            del flow.request.headers["cookie"]
        tag = allowance.device_tag(self.secret, client)
        return allowance.verify(self.secret, token, "allow", tag, at.timestamp()) == platform_id

    # --- events ----------------------------------------------------------------------------

    def device_pseudonym(self, policy: Policy, client: str, at: datetime) -> str | None:
        privacy = policy.bundle.get("privacy") or {}
        level = privacy.get("level") or policy.settings.get("privacy_level", "daily")
        if level == "none":
            return None
        if level == "stable":
            key_hex = privacy.get("key")
            key = bytes.fromhex(key_hex) if key_hex else private_key(self.data_dir / "device.key")
            return pseudonym(key, client)
        day = policy.working_time.local(at).date().isoformat()
        if privacy.get("salt") and privacy.get("salt_date") == day:
            return pseudonym(bytes.fromhex(privacy["salt"]), client)
        return pseudonym(daily_salt(self.data_dir / "salt.json", day), client)

    def _record(
        self,
        policy: Policy,
        decision: Decision,
        at: datetime,
        client: str,
        response: str = "none",
        reason: str | None = None,
    ) -> None:
        if self.outbox is None:
            return
        event = event_from_decision(
            decision,
            event_id=uuid.uuid4().hex,
            at=at,
            sensor=ctx.options.clausewarden_sensor,
            device=self.device_pseudonym(policy, client, at),
            policy_version=policy.policy_version,
            granularity_minutes=int(policy.settings["event_time_granularity_minutes"]),
            response=response,
            reason_category=reason,
        )
        day = policy.working_time.local(at).date().isoformat()
        if not self.outbox.add(event, day, allowance.device_tag(self.secret, client)):
            self.dropped_logged += 1
            if self.dropped_logged == 1 or self.dropped_logged % 1000 == 0:
                log.error(
                    "the outbox is full: %d events not kept", self.outbox.status()["outbox_dropped"]
                )
        if self.shipper is not None:
            self.shipper.wake()

    # --- pages -----------------------------------------------------------------------------

    def _ticket(self, platform_id: str, client: str, at: datetime) -> str:
        tag = allowance.device_tag(self.secret, client)
        return allowance.sign(
            self.secret, "ticket", platform_id, tag, int(at.timestamp()) + TICKET_SECONDS
        )

    def _warning_page(
        self,
        flow: http.HTTPFlow,
        policy: Policy,
        platform: PlatformSpec,
        decision: Decision,
        client: str,
        at: datetime,
    ) -> http.Response:
        blocked = decision.outcome == "block"
        return page.html_response(
            403 if blocked else 200,
            "warning.html",
            school=policy.school_name,
            platform_name=platform.name,
            reason=decision.reason,
            clauses=policy.clause_texts(decision.clauses),
            blocked=blocked,
            allow_continue=decision.allow_continue and not blocked,
            reasons=policy.settings["continue_reasons"],
            ticket=self._ticket(platform.id, client, at),
            return_to=flow.request.path,
            account_seen=policy.account_id(platform, flow.request.cookies) is not None
            if platform.account_cookies
            else False,
            allowance_minutes=policy.settings["allowance_minutes"],
            granularity=policy.settings["event_time_granularity_minutes"],
            injection=bool(self.injections),
        )

    def _internal(
        self, flow: http.HTTPFlow, policy: Policy, platform: PlatformSpec, client: str
    ) -> None:
        """The proxy's own pages under /.clausewarden/ on a social host: never sent upstream."""
        request = flow.request
        name = request.path[len(PREFIX) :].partition("?")[0]
        method = request.method
        at = self.now()
        school = policy.school_name
        tag = allowance.device_tag(self.secret, client)
        if name == "mine" and method == "GET":
            day = policy.working_time.local(at).date().isoformat()
            rows = self.outbox.for_self(tag, day) if self.outbox else []
            for row in rows:  # shown in the school's time, from the coarsened UTC time
                utc = datetime.fromisoformat(row["time"].replace("Z", "+00:00"))
                row["local_time"] = policy.working_time.local(utc).strftime("%H:%M")
            flow.response = page.notice(
                200,
                school,
                "What this device has recorded today",
                "These are the anonymised events recorded from this device today. "
                "No page addresses, content or accounts are recorded.",
                rows=rows,
            )
            return
        if name == "privacy" and method == "GET":
            flow.response = page.notice(200, school, "Privacy", *self._privacy_text(policy))
            return
        form = request.urlencoded_form if method == "POST" else request.query
        ticket = form.get("ticket", "")
        if name not in ("continue", "back", "register") or method not in ("GET", "POST"):
            flow.response = page.notice(404, school, "Not found", "There is no such page.")
            return
        if allowance.verify(self.secret, ticket, "ticket", tag, at.timestamp()) != platform.id:
            flow.response = page.notice(
                403,
                school,
                "This warning has expired",
                "Reload the page you wanted to see; the warning will show again.",
            )
            return
        return_to = _safe_return_path(form.get("return_to", "/"))
        facts = facts_from_flow(
            flow, platform, at, client, 0, path=return_to, method="GET", navigation=True
        )
        decision = decide(facts, policy)
        if name == "continue" and method == "POST":
            reasons = {r["id"] for r in policy.settings["continue_reasons"]}
            reason = form.get("reason", "")
            if decision.outcome != "warn" or not decision.allow_continue or reason not in reasons:
                flow.response = page.notice(
                    403, school, "Continue is not available", "Choose one of the reasons offered."
                )
                return
            self._record(policy, decision, at, client, "continued", reason)
            minutes = int(policy.settings["allowance_minutes"])
            expires = int((at + timedelta(minutes=minutes)).timestamp())
            token = allowance.sign(self.secret, "allow", platform.id, tag, expires)
            flow.response = http.Response.make(
                303,
                b"",
                {
                    "Location": return_to,
                    "Cache-Control": "no-store",
                    "Set-Cookie": f"{allowance.COOKIE}={token}; Path=/; Max-Age={minutes * 60}; "
                    f"HttpOnly; SameSite=Lax{'; Secure' if request.scheme == 'https' else ''}",
                },
            )
            return
        if name == "back" and method == "POST":
            if decision.record and decision.outcome in ("warn", "block"):
                self._record(policy, decision, at, client, "went_back")
            flow.response = page.notice(
                200,
                school,
                "You went back",
                "Thank you. Nothing else is recorded.",
                go_back=True,
            )
            return
        if name == "register":
            self._register(flow, policy, platform, ticket)
            return
        flow.response = page.notice(405, school, "Not allowed", "Use the buttons on the page.")

    def _register(
        self, flow: http.HTTPFlow, policy: Policy, platform: PlatformSpec, ticket: str
    ) -> None:
        school = policy.school_name
        account_id = (
            policy.account_id(platform, flow.request.cookies) if platform.account_cookies else None
        )
        if account_id is None:
            flow.response = page.notice(
                400,
                school,
                "No account to register",
                f"You are not signed in to {platform.name} in this browser.",
            )
            return
        if flow.request.method == "GET":
            flow.response = page.notice(
                200,
                school,
                f"Register this {platform.name} account as a school account",
                "The headteacher is asked to approve the account you are signed in with "
                "(clause 10.1). Until then nothing changes.",
                register={"ticket": ticket},
            )
            return
        label = " ".join(flow.request.urlencoded_form.get("label", "").split())[:200]
        if not label:
            flow.response = page.notice(400, school, "A name is needed", "Give the account a name.")
            return
        if not self.service_url:
            flow.response = page.notice(
                503,
                school,
                "Not sent",
                "This proxy is not connected to a ClauseWarden service; ask the IT admin to "
                "add the account.",
            )
            return
        try:
            post_account_request(self.service_url, self.token, platform.id, account_id, label)
        except ServiceError as exc:
            log.warning("account request not sent: %s", exc)
            flow.response = page.notice(
                503, school, "Not sent", "The ClauseWarden service could not be reached; try later."
            )
            return
        flow.response = page.notice(
            202,
            school,
            "Request sent",
            "The headteacher will be asked to approve this account.",
        )

    def _privacy_text(self, policy: Policy) -> Sequence[str]:
        level = (policy.bundle.get("privacy") or {}).get("level") or policy.settings.get(
            "privacy_level"
        )
        return (
            "This proxy puts the school's Social Media Policy to work. It only decrypts "
            "connections to social media sites and to the sites where the school sets sign-in "
            "restrictions; every other secure connection passes through unopened and is not "
            "logged.",
            "When a page needs a warning, an anonymised event is recorded: the time, rounded; "
            "the platform; the kind of action; the clause; and your choice. Never the page's "
            "address, what you wrote or read, your device's address or your account (clause 9).",
            f"Device pseudonyms: {level}. 'daily' changes every day and cannot be linked "
            "back afterwards; 'none' records no device at all.",
        )


addons = [ClauseWarden()]
