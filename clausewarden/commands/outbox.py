"""`clausewarden outbox export`: the events kept in the proxy's local outbox."""

import argparse
import csv
import json
import sys
from pathlib import Path

from policy.event import EVENT_FIELDS
from proxy_addon.outbox import Outbox
from proxy_addon.paths import OUTBOX_FILE, default_data_dir

FIELDS = EVENT_FIELDS


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("outbox", help="read the proxy's local outbox")
    inner = parser.add_subparsers(dest="outbox_command", required=True, metavar="COMMAND")
    export = inner.add_parser("export", help="print the events kept in the outbox")
    export.add_argument("--format", choices=("csv", "jsonl"), default="jsonl")
    export.add_argument("--data-dir", type=Path, help="the proxy's data folder")
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    path = (args.data_dir or default_data_dir()) / OUTBOX_FILE
    if not path.exists():
        print(f"clausewarden outbox: no outbox at {path}", file=sys.stderr)
        return 1
    outbox = Outbox(path)
    try:
        rows = outbox.all_events()
        status = outbox.status()
    finally:
        outbox.close()
    if args.format == "jsonl":
        for state, event in rows:
            print(json.dumps({**event, "outbox_state": state}, ensure_ascii=False))
    else:
        writer = csv.writer(sys.stdout)
        writer.writerow((*FIELDS, "outbox_state"))
        for state, event in rows:
            values = [event.get(f) for f in FIELDS]
            for field in ("clauses", "may_apply"):  # lists of clause ids, space-separated
                values[FIELDS.index(field)] = " ".join(event.get(field, []))
            writer.writerow((*["" if v is None else v for v in values], state))
    deferred = sum(1 for state, _ in rows if state == "deferred")
    print(
        f"{len(rows)} events; {status['outbox_pending']} not yet shipped"
        + (f" ({deferred} waiting because this proxy's clock is ahead)" if deferred else "")
        + f"; {status['outbox_dropped']} could not be kept (outbox full, or its disk); "
        f"{status['outbox_rejected']} refused by the service for good",
        file=sys.stderr,
    )
    return 0
