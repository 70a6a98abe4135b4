"""`clausewarden restore` (being written)."""

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("restore", help="(being written)")
    parser.set_defaults(run=lambda args: 1)
