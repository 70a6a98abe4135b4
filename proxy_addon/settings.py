"""The sensor's own settings: its data folder and secret, the service and its token, the clock;
and what mitmproxy may write in its log.

First in the addon list: the others read what it puts in `Shared` when they configure.

mitmproxy's log names the client's address and port on every line about a connection, and its
messages name hosts ("the client does not trust the proxy's certificate for www.facebook.com").
Unless `clausewarden_log_connections` is set, a filter on mitmproxy's log handlers lets through only
ClauseWarden's own messages (which never name an address or a page) and mitmproxy's errors, with
the client's address removed; a connection refused, a TLS failure, a host: none is written.
"""

import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from mitmproxy import ctx
from mitmproxy.log import MitmLogHandler

from proxy_addon.paths import ALLOWANCE_KEY_FILE, default_data_dir
from proxy_addon.secrets import private_key
from proxy_addon.service_client import ALLOW_PLAIN_HTTP_OPTION, plain_http_refusal
from proxy_addon.shared import Shared, refuse

SENSOR_OPTIONS = {"clausewarden_data_dir", "clausewarden_service", "clausewarden_token_file"}


class Settings:
    name = "clausewarden_settings"

    def __init__(self, shared: Shared) -> None:
        self.shared = shared

    def load(self, loader: Any) -> None:
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
            "clausewarden_data_dir",
            str,
            "",
            "Folder for the outbox, the last good bundle and the proxy's secrets "
            "(default ~/.clausewarden/proxy).",
        )
        loader.add_option(
            ALLOW_PLAIN_HTTP_OPTION,
            bool,
            False,
            "Send the sensor token to a plain http:// service on another machine (refused by "
            "default: anyone on the network could read it). Loopback needs no permission.",
        )
        loader.add_option(
            "clausewarden_log_connections",
            bool,
            False,
            "For troubleshooting only: let mitmproxy log connections, TLS failures and hosts "
            "with the client's address (by default its log names no address and no host).",
        )
        loader.add_option(
            "clausewarden_now",
            str,
            "",
            "For tests and demonstrations only: decide as if it were this ISO-8601 time.",
        )

    def configure(self, updated: set[str]) -> None:
        opts = ctx.options
        if "clausewarden_log_connections" in updated or "termlog_verbosity" in updated:
            quiet_mitmproxy_log(not opts.clausewarden_log_connections)
        if "clausewarden_now" in updated:
            self.shared.fixed_now = parse_now(opts.clausewarden_now)
        if "clausewarden_service" in updated and opts.clausewarden_service:
            if not re.match(r"^https?://[^/\s]+", opts.clausewarden_service):
                raise refuse(
                    f"clausewarden_service: {opts.clausewarden_service!r} is not an http(s) URL"
                )
        if (
            updated & {"clausewarden_service", ALLOW_PLAIN_HTTP_OPTION}
            and opts.clausewarden_service
        ):
            problem = plain_http_refusal(
                opts.clausewarden_service, getattr(opts, ALLOW_PLAIN_HTTP_OPTION)
            )
            if problem:
                raise refuse(problem)
        if updated & SENSOR_OPTIONS:
            self._setup()

    def _setup(self) -> None:
        opts = ctx.options
        data_dir = Path(opts.clausewarden_data_dir) if opts.clausewarden_data_dir else None
        data_dir = data_dir or default_data_dir()
        try:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise refuse(
                f"clausewarden_data_dir: {str(data_dir)!r} cannot be created: {exc}"
            ) from exc
        token = ""
        if opts.clausewarden_service:
            if not opts.clausewarden_token_file:
                raise refuse(
                    "clausewarden_token_file: '' (a sensor token file is needed with "
                    f"clausewarden_service {opts.clausewarden_service!r})"
                )
            try:
                token = Path(opts.clausewarden_token_file).read_text().strip().splitlines()[-1]
            except (OSError, IndexError) as exc:
                raise refuse(
                    f"clausewarden_token_file: {opts.clausewarden_token_file!r} cannot be read "
                    "or is empty"
                ) from exc
        shared = self.shared
        shared.data_dir, shared.service_url, shared.token = (
            data_dir,
            opts.clausewarden_service,
            token,
        )
        shared.secret = private_key(data_dir / ALLOWANCE_KEY_FILE)


def parse_now(value: str) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise refuse(f"clausewarden_now: {value!r} is not an ISO-8601 time with a UTC offset")
    return at


class NoAddresses(logging.Filter):
    """Only ClauseWarden's messages and mitmproxy's errors, never with a client's address."""

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name == "clausewarden" or record.name.startswith("clausewarden.")
        if not ours and record.levelno < logging.ERROR:
            return False  # connections, TLS failures, hosts: mitmproxy's info and warnings
        if getattr(record, "client", None) is not None:
            record.client = None  # mitmproxy's log formatter prints it before the message
        return True


_FILTER = NoAddresses()


def quiet_mitmproxy_log(quiet: bool) -> None:
    """Put the filter on (or take it off) mitmproxy's handlers of the root logger (its terminal log
    and event store): a filter on a logger would miss the records that propagate to them."""
    for handler in logging.getLogger().handlers:
        if not isinstance(handler, MitmLogHandler):
            continue
        if quiet:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
        else:
            handler.removeFilter(_FILTER)
