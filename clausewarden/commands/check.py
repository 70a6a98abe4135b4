"""`clausewarden check URL ...`: what the policy decides about one request, and why."""

import argparse
import json
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from clausewarden.help_texts import CONFIG_HELP
from policy import Facts, Policy, decide
from policy.captive import CLAUSES as CAPTIVE_CLAUSES
from policy.captive import probe_for
from policy.configdir import load_policy
from policy.decide import is_top_level_navigation
from policy.facts import Decision
from policy.respond import SEEN_SECONDS
from policy.tunnel import decide_tunnel
from policy.warning import act_held, continue_offered, what_staff_see


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "check",
        help="show the decision for one request",
        description="Decide one request as a sensor would. Without --header it is a top-level "
        "navigation (Sec-Fetch-Mode: navigate, Sec-Fetch-Dest: document).",
    )
    parser.add_argument("url")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[], metavar="'Name: value'")
    parser.add_argument("--cookie", action="append", default=[], metavar="name=value")
    parser.add_argument("--body-file", type=Path)
    parser.add_argument("--at", help="ISO-8601 time with UTC offset (default: now)")
    parser.add_argument("--client", help="client IP address (default: the staff device group)")
    parser.add_argument("--config", type=Path, help=CONFIG_HELP)
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--data-dir",
        type=Path,
        help="decide as the service with this data folder does: with the school accounts "
        "approved in its pages",
    )
    source.add_argument(
        "--service",
        metavar="URL",
        help="decide with the bundle this service serves its sensors (needs --token-file)",
    )
    parser.add_argument("--database", metavar="URL", help="with --data-dir: the service's database")
    parser.add_argument(
        "--token-file", type=Path, help="with --service: a file with a sensor token"
    )
    parser.add_argument("--json", action="store_true", help="print the Decision as JSON")
    parser.set_defaults(run=run)


class _Unavailable(Exception):
    """The service's policy could not be had; the message says why."""


def _policy(args: argparse.Namespace) -> Policy:
    """The config folder's policy, or the one a service holds (--data-dir, --service)."""
    if not (args.service or args.data_dir):
        return load_policy(args.config)
    # Only then the service's client code (asyncio, the store): a plain check starts faster.
    from clausewarden.approved_accounts import (
        SourceError,
        bundle_from_service,
        bundle_from_store,
        policy_of,
    )

    try:
        if args.service:
            if args.token_file is None:
                raise SourceError("--service needs --token-file FILE holding a sensor token")
            return policy_of(bundle_from_service(args.service, args.token_file), args.service)
        bundle = bundle_from_store(args.data_dir, args.database, args.config)
        return policy_of(bundle, str(args.data_dir))
    except SourceError as exc:
        raise _Unavailable(str(exc)) from None


def _fail(message: str) -> int:
    print(f"clausewarden check: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    headers: dict[str, str] = {}
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            return _fail(f"--header {header!r}: expected 'Name: value'")
        headers[name.strip().lower()] = value.strip()
    if not args.header:
        headers = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
    cookies: dict[str, str] = {}
    for cookie in args.cookie:
        name, sep, value = cookie.partition("=")
        if not sep or not name:
            return _fail(f"--cookie {cookie!r}: expected name=value")
        cookies[name] = value
    if args.at:
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            return _fail(f"--at {args.at!r}: expected ISO-8601 like 2026-11-25T10:30:00+00:00")
        if at.tzinfo is None:
            return _fail(f"--at {args.at!r}: give the UTC offset, e.g. +00:00 or Z")
    else:
        at = datetime.now().astimezone()
    body = args.body_file.read_bytes() if args.body_file else None
    try:
        policy = _policy(args)
    except _Unavailable as exc:
        return _fail(str(exc))
    try:
        facts = Facts.from_url(
            args.url,
            method=args.method.upper(),
            headers=headers,
            cookies=cookies,
            body=body,
            at=at,
            client=args.client,
        )
    except ValueError as exc:
        return _fail(str(exc))
    group = policy.group_for_client(args.client) if args.client else policy.staff_group
    tunnelled = group in policy.tunnelled_groups and urlsplit(args.url).scheme == "https"
    if tunnelled:  # never decrypted: the proxy knows the name asked for, nothing more
        decision = decide_tunnel(facts.host, at, args.client, policy)
    else:
        decision = decide(facts, policy)
    if args.json:
        print(json.dumps(decision.contract(), ensure_ascii=False))
        return 0
    print(f"{args.method.upper()} {args.url}")
    print(f"  outcome:  {decision.outcome.upper()}")
    print(f"  platform: {decision.platform or '-'} ({decision.category or 'not social media'})")
    print(
        f"  action:   {decision.action}    account: {decision.account}    "
        f"working time: {'yes' if decision.working_time else 'no'}    "
        f"device group: {decision.device_group or '-'}"
    )
    print(f"  why:      {decision.reason}")
    name = policy.platforms[decision.platform].name if decision.platform else "-"
    navigation = is_top_level_navigation(facts.method, facts.headers)
    if tunnelled:
        print(f"  staff see: {tunnel_sees(decision, group or '-')}")
    else:
        print(f"  staff see: {staff_see(decision, navigation, name)}")
    if group in policy.tunnelled_groups and urlsplit(args.url).scheme == "http":
        probe = probe_for(facts.host, facts.path)
        if probe is not None:
            print(f"  captive portal: {captive_sees(policy, probe.system)}")
    rule = next((r for r in policy.rules if r.id == decision.rule), None)
    condition = rule.may_apply_if if rule is not None else None
    may = {
        c: f" (may apply: if {condition})" if condition else " (may apply)"
        for c in decision.may_apply
    }
    for clause in policy.clause_texts((*decision.may_apply, *decision.clauses)):
        heading = f" {clause.heading}" if clause.heading else ""
        print(f"  clause {clause.id}{heading}{may.get(clause.id, '')}:")
        print(
            textwrap.fill(
                clause.text or "", width=92, initial_indent='    "', subsequent_indent="     "
            )
            + '"'
        )
    return 0


def tunnel_sees(decision: Decision, group: str) -> str:
    """What a device whose secure connections are tunnelled gets: never a page."""
    told = (
        f"no page: device group {group} is not decrypted (decrypt_https: false), so this "
        "secure connection is tunnelled unopened"
    )
    if decision.record:
        return (
            f"{told}; recorded as 'seen' (at most once per device, platform and "
            f"{SEEN_SECONDS // 60} minutes)"
        )
    return f"{told}; not recorded"


def captive_sees(policy: Policy, system: str) -> str:
    """What a device not decrypted gets for its connectivity check (proxy_addon/captive.py)."""
    quoted = [c.id for c in policy.clause_texts(CAPTIVE_CLAUSES)]
    return (
        f"this is {system}'s connectivity check: where the guest Wi-Fi's port 80 goes to the "
        f"proxy's transparent mode, the device's first check of the day gets the notice quoting "
        f"clauses {', '.join(quoted)} with a button to accept; after it, the answer {system} "
        "expects (docs/devices.md)"
    )


def staff_see(decision: Decision, navigation: bool, platform_name: str) -> str:
    """What the member of staff sees through the proxy, in words (policy.warning.what_staff_see)."""
    seen = what_staff_see(decision, navigation)
    choice = "Continue offered" if continue_offered(decision) else "no Continue"
    text = {
        "nothing": "nothing; it passes" + (" and is recorded" if decision.record else ""),
        "warning_page": f"the warning page at once ({choice})",
        "blocked_page": "the blocked page at once",
        "next_page_warning": f"warning on the next page of {platform_name} ({choice}); "
        "the page's request gets 403",
        "next_page_blocked": f"blocked notice on the next page of {platform_name}; "
        "the page's request gets 403",
        "refused": "nothing; the request gets 403",
    }[seen]
    return f"held; {text}" if act_held(decision) else text
