"""`clausewarden backup` (being written)."""

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("backup", help="(being written)")
    parser.set_defaults(run=lambda args: 1)
