"""`clausewarden dpia`: a DPIA draft (Markdown) for the school's data protection officer,
generated from the settings in force."""

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from clausewarden.commands.service_args import add_store_options, config_from
from service.cli_support import bundle_source, open_store
from service.dpia import dpia_markdown


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("dpia", help="write a DPIA draft", description=__doc__)
    parser.add_argument("--output", type=Path, help="file to write (default: standard output)")
    add_store_options(parser)
    parser.set_defaults(run=run)


async def _run(args: argparse.Namespace) -> int:
    config = config_from(args)
    school, bundles, tz = bundle_source(config)
    async with open_store(config) as engine, engine.connect() as conn:
        settings = await bundles.settings(conn)
    text = dpia_markdown(school, settings, datetime.now(UTC).astimezone(tz).date())
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"DPIA draft written to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
