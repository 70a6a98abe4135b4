"""`clausewarden platforms report [--config DIR] [--stale-after DAYS] [--json]`: the catalogue's
endpoints by age, so a school sees when a request signature may be stale, and per platform which
of the flows a member of staff can use (compose, reply, comment, ..., upload then publish) have a
recognised endpoint.

Each endpoint of config/platforms.yaml names its `source` (the web app, or an open-source client's
file) and the date it was last `verified_on` against it. Platforms change their web apps; an
endpoint not checked for a while may no longer match what the app sends."""

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from clausewarden.help_texts import CONFIG_HELP
from policy.config import FLOWS
from policy.configdir import load_config_dir

STALE_AFTER_DAYS = 180
"""An endpoint not checked for this long is reported as possibly stale."""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("platforms", help="the platform catalogue: endpoints by age")
    what = parser.add_subparsers(dest="platforms_command", required=True, metavar="SUBCOMMAND")
    report = what.add_parser(
        "report", help="endpoints by the date they were last verified, oldest first"
    )
    report.add_argument("--config", type=Path, help=CONFIG_HELP)
    report.add_argument(
        "--stale-after",
        type=int,
        default=STALE_AFTER_DAYS,
        metavar="DAYS",
        help=f"call an endpoint possibly stale after this many days (default {STALE_AFTER_DAYS})",
    )
    report.add_argument("--today", type=date.fromisoformat, help=argparse.SUPPRESS)
    report.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    report.set_defaults(run=run)


def endpoint_rows(config_dir: Path | None, today: date, stale_after: int) -> list[dict[str, Any]]:
    """Every endpoint, never verified first, then the oldest verification first."""
    rows = []
    for platform in load_config_dir(config_dir).platforms.platforms:
        for endpoint in platform.endpoints:
            verified = endpoint.verified_on
            age = (today - verified).days if verified else None
            rows.append(
                {
                    "platform": platform.id,
                    "action": endpoint.action,
                    "methods": list(endpoint.methods),
                    "hosts": list(endpoint.hosts),
                    "path": endpoint.path,
                    "source": endpoint.source,
                    "verified_on": verified.isoformat() if verified else None,
                    "age_days": age,
                    "status": "never verified"
                    if age is None
                    else ("possibly stale" if age > stale_after else "recent"),
                }
            )
    rows.sort(key=_oldest_first)
    return rows


def flow_rows(config_dir: Path | None) -> list[dict[str, Any]]:
    """Per platform, the flows (config.Flow) some endpoint recognises, and those none does: on a
    platform without endpoints every act shows as browsing."""
    rows = []
    for platform in load_config_dir(config_dir).platforms.platforms:
        covered = {flow for endpoint in platform.endpoints for flow in endpoint.flows}
        rows.append(
            {
                "platform": platform.id,
                "recognised": [f for f in FLOWS if f in covered],
                "not_recognised": [f for f in FLOWS if f not in covered],
            }
        )
    return rows


def _oldest_first(row: dict[str, Any]) -> tuple[bool, int, str]:
    age = row["age_days"]
    return (age is not None, -(age or 0), str(row["platform"]))


def run(args: argparse.Namespace) -> int:
    if args.stale_after < 0:
        print(
            "clausewarden platforms report: --stale-after is a number of days, 0 or more",
            file=sys.stderr,
        )
        return 2
    today = args.today or date.today()
    rows = endpoint_rows(args.config, today, args.stale_after)
    flows = flow_rows(args.config)
    counts = {s: sum(r["status"] == s for r in rows) for s in ("never verified", "possibly stale")}
    if args.json:
        doc = {
            "today": today.isoformat(),
            "stale_after_days": args.stale_after,
            "endpoints": rows,
            "flows": flows,
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    print(
        f"{len(rows)} endpoints: {counts['never verified']} never verified, "
        f"{counts['possibly stale']} last verified more than {args.stale_after} days ago "
        f"(as of {today.isoformat()}). Oldest first:"
    )
    for r in rows:
        age = "never" if r["age_days"] is None else f"{r['age_days']}d"
        where = f" on {','.join(r['hosts'])}" if r["hosts"] else ""
        print(
            f"{age:>6}  {r['verified_on'] or '-':10}  {r['platform']:12} {r['action']:9} "
            f"{'/'.join(r['methods']):10} {r['path']}{where}"
        )
        print(f"{'':>19}source: {r['source'] or '(none given)'}")
    print()
    print(
        "Flows with a recognised endpoint, per platform (a flow with none, where the platform "
        "offers it, shows as browsing):"
    )
    for f in flows:
        recognised = ", ".join(_flow(x) for x in f["recognised"]) or "none"
        print(f"  {f['platform']:12} {recognised}")
        if f["recognised"] and f["not_recognised"]:
            missing = ", ".join(_flow(x) for x in f["not_recognised"])
            print(f"  {'':12} no endpoint for: {missing}")
    return 0


def _flow(flow: str) -> str:
    return "upload then publish" if flow == "upload_publish" else flow.replace("_", " ")
